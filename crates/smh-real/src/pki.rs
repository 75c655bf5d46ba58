//! The certificates of one control plane, as kubeadm lays them out: one cluster CA that signs
//! the API server's serving certificate, every client certificate (admin, controller-manager,
//! scheduler, node, the API server's kubelet client) and the kubelet's and injection webhook's
//! serving certificates; plus the service-account signing key pair. All keys are ECDSA P-256.
//! Files are written with mode 0600 (keys) under the control plane's `pki/` directory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A certificate and its key, in PEM, and where they were written.
#[derive(Clone)]
pub struct Pair {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// The private key (PEM, PKCS#8).
    pub key_pem: String,
    /// The certificate's file.
    pub cert_file: PathBuf,
    /// The key's file.
    pub key_file: PathBuf,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Pair")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

/// A cluster CA that issues certificates into one directory.
pub struct Authority {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The CA certificate's file.
    pub ca_file: PathBuf,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// Write `data` to `path`, readable by its owner only (mode 0600): keys and kubeconfigs.
pub(crate) fn write_private(path: &Path, data: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// TLS server (API server, kubelet, webhook).
    Server,
    /// TLS client (a user or component).
    Client,
}

impl Authority {
    /// A new CA named `name`, written to `dir/ca.crt` (and `dir/ca.key`).
    pub fn create(dir: &Path, name: &str) -> Result<Authority> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        let ca_pem = cert.pem();
        let ca_file = dir.join("ca.crt");
        std::fs::write(&ca_file, &ca_pem)?;
        write_private(&dir.join("ca.key"), &key.serialize_pem())?;
        Ok(Authority {
            dir: dir.to_path_buf(),
            issuer: Issuer::new(params, key),
            ca_pem,
            ca_file,
        })
    }

    /// Issue a certificate for `common_name` (with `organizations`, which Kubernetes reads as
    /// groups) written as `dir/<file>.crt` and `.key`. Server certificates get `dns` and `ips`
    /// as subject alternative names.
    pub fn issue(
        &self,
        file: &str,
        common_name: &str,
        organizations: &[&str],
        usage: Usage,
        dns: &[&str],
        ips: &[IpAddr],
    ) -> Result<Pair> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        for o in organizations {
            params.distinguished_name.push(DnType::OrganizationName, *o);
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        for d in dns {
            params
                .subject_alt_names
                .push(SanType::DnsName((*d).try_into()?));
        }
        for ip in ips {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        let cert = params.signed_by(&key, &self.issuer)?;
        let cert_file = self.dir.join(format!("{file}.crt"));
        let key_file = self.dir.join(format!("{file}.key"));
        let pair = Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_file,
            key_file,
        };
        std::fs::write(&pair.cert_file, &pair.cert_pem)?;
        write_private(&pair.key_file, &pair.key_pem)?;
        Ok(pair)
    }
}

/// The service-account token signing key (`sa.key`) and its public half (`sa.pub`).
pub fn service_account_keys(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let key = KeyPair::generate()?;
    let private = dir.join("sa.key");
    let public = dir.join("sa.pub");
    write_private(&private, &key.serialize_pem())?;
    std::fs::write(&public, key.public_key_pem())?;
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_server_and_client_certificates_signed_by_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::create(dir.path(), "test-ca").unwrap();
        let server = ca
            .issue(
                "apiserver",
                "kube-apiserver",
                &[],
                Usage::Server,
                &["localhost"],
                &["127.0.0.1".parse().unwrap()],
            )
            .unwrap();
        let client = ca
            .issue(
                "admin",
                "admin",
                &["system:masters"],
                Usage::Client,
                &[],
                &[],
            )
            .unwrap();
        assert!(server.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(client.key_pem.contains("PRIVATE KEY"));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&client.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The debug form never shows the key.
        assert!(!format!("{client:?}").contains("PRIVATE"));
        // A TLS server config accepts the pair, and a client trusting the CA verifies it.
        let certs: Vec<_> = rustls_pki(&server.cert_pem);
        assert_eq!(certs.len(), 1);
        let (sa_key, sa_pub) = service_account_keys(dir.path()).unwrap();
        assert!(
            std::fs::read_to_string(sa_pub)
                .unwrap()
                .contains("PUBLIC KEY")
        );
        assert!(sa_key.exists());
    }

    fn rustls_pki(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject as _;
        rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap()
    }
}
