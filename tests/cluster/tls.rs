//! Client certificates and TLS: the fake API server over HTTPS with a certificate signed by
//! a test CA, requiring a client certificate signed by that CA, reached through
//! kubectl-smh's own kubeconfig and client code (and the binary), with the CA and the user's
//! certificate and key given inline (`*-data`, base64) or as files relative to the
//! kubeconfig. The failures (wrong CA, no client certificate, a client certificate the
//! server does not trust, a key that does not match the certificate) are checked word for
//! word, and no error message may carry key or certificate material.
//!
//! The certificates are test-only fixtures in `tests/cluster/tls/` (see its `gen.sh`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use smh_cluster::{ClusterError, Contexts, KubeconfigSet, Registry};

use crate::fake_api::Fake;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cluster/tls")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// The fixture files that hold key or certificate material.
const MATERIAL: &[&str] = &[
    "ca.crt",
    "other-ca.crt",
    "server.crt",
    "server.key",
    "client.crt",
    "client.key",
    "client-rsa.crt",
    "client-rsa.key",
    "other-client.crt",
    "other-client.key",
];

/// An API server's TLS: `server.crt` (signed by `ca.crt`), and a client certificate
/// signed by `ca.crt` required on every connection.
fn server_tls() -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("ca.crt")).unwrap())
        .unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let chain = CertificateDer::pem_file_iter(fixture("server.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

fn b64(name: &str) -> String {
    B64.encode(fixture_text(name))
}

/// A kubeconfig for an HTTPS API server at `server`, its CA and the user's certificate
/// and key given inline or as files under `pki/` next to the kubeconfig (relative paths).
///
/// Clusters: `inline` (CA data), `files` (CA file), `other-ca` (an unrelated CA's data).
/// Users: `inline` (EC client cert and key data), `files` (the same as relative files),
/// `rsa` (an RSA PKCS#1 key, files), `none` (no credentials), `untrusted` (a client cert
/// signed by the unrelated CA), `mismatched` (client.crt with another certificate's key).
fn tls_kubeconfig(server: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Config
current-context: cert-data
clusters:
- name: inline
  cluster:
    server: {server}
    certificate-authority-data: {ca}
- name: files
  cluster:
    server: {server}
    certificate-authority: pki/ca.crt
- name: other-ca
  cluster:
    server: {server}
    certificate-authority-data: {other_ca}
contexts:
- {{name: cert-data, context: {{cluster: inline, user: inline}}}}
- {{name: cert-files, context: {{cluster: files, user: files}}}}
- {{name: cert-rsa, context: {{cluster: files, user: rsa}}}}
- {{name: wrong-ca, context: {{cluster: other-ca, user: inline}}}}
- {{name: no-client-cert, context: {{cluster: inline, user: none}}}}
- {{name: untrusted-client, context: {{cluster: inline, user: untrusted}}}}
- {{name: mismatched-key, context: {{cluster: inline, user: mismatched}}}}
users:
- name: inline
  user:
    client-certificate-data: {client_crt}
    client-key-data: {client_key}
- name: files
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
- name: rsa
  user:
    client-certificate: pki/client-rsa.crt
    client-key: pki/client-rsa.key
- name: none
  user: {{}}
- name: untrusted
  user:
    client-certificate: pki/other-client.crt
    client-key: pki/other-client.key
- name: mismatched
  user:
    client-certificate: pki/client.crt
    client-key: pki/other-client.key
"#,
        ca = b64("ca.crt"),
        other_ca = b64("other-ca.crt"),
        client_crt = b64("client.crt"),
        client_key = b64("client.key"),
    )
}

/// Writes the kubeconfig to `dir/kubeconfig.yaml` and the fixtures to `dir/pki/`.
fn write_tls_kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let pki = dir.join("pki");
    std::fs::create_dir(&pki).unwrap();
    for name in MATERIAL {
        std::fs::copy(fixture(name), pki.join(name)).unwrap();
    }
    let path = dir.join("kubeconfig.yaml");
    std::fs::write(&path, tls_kubeconfig(server)).unwrap();
    path
}

/// Fails when `message` holds any part of a fixture certificate or key: a PEM line, the
/// base64 of the file (as in `*-data`), or the first DER bytes as decimals or hex.
fn assert_no_key_material(message: &str) {
    assert!(!message.contains("BEGIN"), "{message}");
    assert!(!message.contains("PRIVATE KEY"), "{message}");
    for name in MATERIAL {
        let pem = fixture_text(name);
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            // The last line of a PEM body can be short; 16 characters are still unique.
            if line.len() >= 16 {
                assert!(!message.contains(line), "{name} in: {message}");
            }
        }
        let data = B64.encode(&pem);
        assert!(!message.contains(&data[..40]), "{name} in: {message}");
        let der = B64
            .decode(
                pem.lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        let decimals = format!("{:?}", &der[..12]);
        assert!(
            !message.contains(decimals.trim_matches(['[', ']'])),
            "{name} in: {message}"
        );
        let hex: String = der[..12].iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            !message.to_lowercase().contains(&hex),
            "{name} in: {message}"
        );
    }
}

fn contexts(kubeconfig: &Path, dir: &Path) -> Contexts {
    Contexts::new(
        KubeconfigSet::load(Some(kubeconfig)).unwrap(),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        Duration::from_secs(5),
    )
}

/// What `GET /version` through the context gives: the server's git version, or the
/// error message (client build or request).
async fn version_through(contexts: &Contexts, context: &str) -> Result<String, String> {
    let t = contexts.cluster_target(&context.into()).unwrap();
    let client = contexts.client(&t).await.map_err(|e| e.to_string())?;
    client
        .server_version()
        .await
        .map(|i| i.git_version)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn client_certificates_inline_or_in_relative_files_authenticate_over_tls() {
    let (addr, _failures) = Fake::new("v1.33.1").serve_tls(server_tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = write_tls_kubeconfig(dir.path(), &format!("https://{addr}"));
    let contexts = contexts(&kc, dir.path());
    // The test runs in the package directory, where `pki/` does not exist: the relative
    // paths only work when they are resolved against the kubeconfig's directory.
    assert!(!Path::new("pki").exists());
    for ctx in ["cert-data", "cert-files", "cert-rsa"] {
        assert_eq!(
            version_through(&contexts, ctx).await,
            Ok("v1.33.1".to_string()),
            "{ctx}"
        );
    }
}

#[tokio::test]
async fn tls_failures_name_the_context_and_server_and_never_show_key_material() {
    let (addr, mut failures) = Fake::new("v1.33.1").serve_tls(server_tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = write_tls_kubeconfig(dir.path(), &format!("https://{addr}"));
    let contexts = contexts(&kc, dir.path());
    let kc = kc.display();
    // Why the server turned the last connection away.
    let mut server_saw = async || {
        tokio::time::timeout(Duration::from_secs(5), failures.recv())
            .await
            .expect("the server reports the failed handshake")
            .expect("the server runs")
    };
    let mut messages = Vec::new();

    // The server's certificate is not signed by the CA the kubeconfig trusts.
    let t = contexts.cluster_target(&"wrong-ca".into()).unwrap();
    let e = contexts
        .client(&t)
        .await
        .unwrap()
        .server_version()
        .await
        .unwrap_err();
    assert!(matches!(e, ClusterError::Tls { .. }), "{e:?}");
    assert!(e.is_unreachable());
    let e = e.to_string();
    assert_eq!(
        e,
        format!(
            "cluster wrong-ca (context wrong-ca, https://{addr}): TLS handshake with the API \
             server failed (invalid peer certificate: UnknownIssuer); check \
             certificate-authority / certificate-authority-data and tls-server-name of the \
             context's cluster in {kc}"
        )
    );
    assert_eq!(server_saw().await, "received fatal alert: UnknownCA");
    messages.push(e);

    // No client certificate: the server ends the handshake with a `certificate_required`
    // alert; the advice is about the user's client certificate, not the cluster's CA.
    let e = version_through(&contexts, "no-client-cert")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        format!(
            "cluster no-client-cert (context no-client-cert, https://{addr}): the API server \
             refused the client certificate (received fatal alert: CertificateRequired); check \
             client-certificate / client-certificate-data and client-key / client-key-data of \
             the context's user in {kc}: it must be present, unexpired and signed by a CA the \
             API server trusts"
        )
    );
    assert_eq!(server_saw().await, "peer sent no certificates");
    messages.push(e);

    // A client certificate signed by a CA the server does not trust: the server's
    // `unknown_ca` alert, again about the user's certificate.
    let e = version_through(&contexts, "untrusted-client")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        format!(
            "cluster untrusted-client (context untrusted-client, https://{addr}): the API \
             server refused the client certificate (received fatal alert: UnknownCA); check \
             client-certificate / client-certificate-data and client-key / client-key-data of \
             the context's user in {kc}: it must be present, unexpired and signed by a CA the \
             API server trusts"
        )
    );
    assert_eq!(
        server_saw().await,
        "invalid peer certificate: UnknownIssuer"
    );
    messages.push(e);

    // A key that does not belong to the certificate: refused while building the client,
    // before anything is sent.
    let e = version_through(&contexts, "mismatched-key")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        format!(
            "context mismatched-key in {kc}: rustls tls error: invalid private key: keys may \
             not be consistent: KeyMismatch; check client-certificate / \
             client-certificate-data and client-key / client-key-data of the context's user: \
             the key must be the certificate's own"
        )
    );
    assert!(failures.try_recv().is_err(), "no connection was made");
    messages.push(e);

    for m in &messages {
        assert_no_key_material(m);
    }
}

/// The HTTPS fake API server on its own thread and runtime (for tests that run the binary).
fn serve_tls_in_thread(fake: Fake) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (addr, _failures) = fake.serve_tls(server_tls()).await;
            tx.send(addr).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

#[test]
fn version_over_tls_with_a_client_certificate_and_with_the_wrong_ca() {
    let addr = serve_tls_in_thread(Fake::new("v1.33.1"));
    let dir = tempfile::tempdir().unwrap();
    let kc = write_tls_kubeconfig(dir.path(), &format!("https://{addr}"));
    let reg = dir.path().join("clusters.yaml");
    crate::cmd(&kc, &reg)
        .args(["version", "--mgmt-context", "cert-files"])
        .assert()
        .success()
        .stdout(format!(
            "Client Version: v{}\nServer Version: v1.33.1 (cert-files, management; context cert-files, https://{addr})\n",
            env!("CARGO_PKG_VERSION")
        ));
    let out = crate::cmd(&kc, &reg)
        .args(["version", "--mgmt-context", "wrong-ca"])
        .assert()
        .code(3)
        .stdout(format!("Client Version: v{}\n", env!("CARGO_PKG_VERSION")))
        .stderr(format!(
            "error: management cluster (context wrong-ca, https://{addr}): TLS handshake with \
             the API server failed (invalid peer certificate: UnknownIssuer); check \
             certificate-authority / certificate-authority-data and tls-server-name of the \
             context's cluster in {}\n",
            kc.display()
        ))
        .get_output()
        .clone();
    assert_no_key_material(&String::from_utf8_lossy(&out.stderr));
}
