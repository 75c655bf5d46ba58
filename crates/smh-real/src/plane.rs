//! One real control plane on loopback: etcd, kube-apiserver (TLS, client-certificate
//! authentication, `--authorization-mode=Node,RBAC`, the default admission plugins plus
//! NodeRestriction), kube-controller-manager and kube-scheduler, with their certificates and
//! kubeconfigs under the plane's directory.
//!
//! Ports are probed free (bind port 0 on the address, read the port, close) just before the
//! component that uses them starts; a component that then fails to bind exits, which the
//! supervisor reports by name.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;

use crate::peers::Peers;
use crate::pki::{Authority, Pair, Usage, service_account_keys};
use crate::procs::Supervisor;

/// The service CIDR (the seed's cluster IPs are in it).
pub const SERVICE_CIDR: &str = "10.96.0.0/16";

/// A free TCP port on `ip`.
pub fn free_port(ip: IpAddr) -> Result<u16> {
    let l = TcpListener::bind((ip, 0)).with_context(|| format!("probing a free port on {ip}"))?;
    Ok(l.local_addr()?.port())
}

/// A control plane's identity, addresses, credentials and files.
#[derive(Debug)]
pub struct Plane {
    /// Its name: the kubeconfig context (`mgmt-cluster`).
    pub name: String,
    /// Its directory (pki/, etcd/, kubeconfigs).
    pub dir: PathBuf,
    /// The API server's URL (`https://127.0.0.1:<port>`).
    pub server: String,
    /// The cluster CA certificate (PEM).
    pub ca_pem: String,
    /// The cluster CA's file.
    pub ca_file: PathBuf,
    /// The cluster admin (`system:masters`).
    pub admin: Pair,
    /// The node's kubelet client identity (`system:node:<node>` in `system:nodes`).
    pub node: Pair,
    /// The node agent's serving certificate (kubelet API and injection webhook), for the
    /// node's IP.
    pub node_serving: Pair,
    /// The node's name.
    pub node_name: String,
    /// The node's address (a loopback address of its own: `127.<10+index>.0.1`).
    pub node_ip: Ipv4Addr,
    /// Second octet of the node's pod IPs (`10.<octet>.x.y`; the API server refuses loopback
    /// addresses in Endpoints and EndpointSlices, so pod IPs are the simulator's, each
    /// (pod IP, port) served on a loopback port of its own).
    pub pod_octet: u8,
    etcd_client: String,
    sa_key: PathBuf,
    sa_pub: PathBuf,
    serving: Pair,
    kubelet_client: Pair,
    ca: Authority,
    controller_manager: PathBuf,
    scheduler: PathBuf,
}

/// A kubeconfig user: a client certificate and key.
pub struct Credentials<'a> {
    /// The user entry's name.
    pub user: String,
    /// The certificate and key.
    pub pair: &'a Pair,
}

/// The kubeconfig (YAML) for `contexts`: (context/cluster name, server, CA PEM, user). The
/// credentials are embedded, so the file stands alone.
pub fn kubeconfig_yaml(contexts: &[(&str, &str, &str, Credentials<'_>)], current: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let mut clusters = String::new();
    let mut users = String::new();
    let mut ctxs = String::new();
    for (name, server, ca, cred) in contexts {
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\n",
            b64(ca)
        ));
        users.push_str(&format!(
            "- name: {}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            cred.user,
            b64(&cred.pair.cert_pem),
            b64(&cred.pair.key_pem)
        ));
        ctxs.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {}\n",
            cred.user
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{ctxs}current-context: {current}\nusers:\n{users}preferences: {{}}\n"
    )
}

impl Plane {
    /// Create the certificates and kubeconfigs of control plane `name` number `index` (0, 1,
    /// ...) under `dir`, and pick the API server's and etcd's ports.
    pub fn prepare(name: &str, index: u8, dir: &Path) -> Result<Plane> {
        let pki = dir.join("pki");
        let ca = Authority::create(&pki, &format!("{name}-ca"))?;
        let local: IpAddr = Ipv4Addr::LOCALHOST.into();
        let node_ip = Ipv4Addr::new(127, 10 + index, 0, 1);
        let node_name = format!("{name}-control-plane");
        let serving = ca.issue(
            "apiserver",
            "kube-apiserver",
            &[],
            Usage::Server,
            &[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            &[local, "10.96.0.1".parse()?],
        )?;
        let admin = ca.issue(
            "admin",
            "kubernetes-admin",
            &["system:masters"],
            Usage::Client,
            &[],
            &[],
        )?;
        let kcm = ca.issue(
            "controller-manager",
            "system:kube-controller-manager",
            &[],
            Usage::Client,
            &[],
            &[],
        )?;
        let sched = ca.issue(
            "scheduler",
            "system:kube-scheduler",
            &[],
            Usage::Client,
            &[],
            &[],
        )?;
        let node = ca.issue(
            "node",
            &format!("system:node:{node_name}"),
            &["system:nodes"],
            Usage::Client,
            &[],
            &[],
        )?;
        let node_serving = ca.issue(
            "node-serving",
            &node_name,
            &[],
            Usage::Server,
            &[&node_name],
            &[node_ip.into(), local],
        )?;
        let kubelet_client = ca.issue(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            &[],
            Usage::Client,
            &[],
            &[],
        )?;
        let (sa_key, sa_pub) = service_account_keys(&pki)?;
        let port = free_port(local)?;
        let server = format!("https://127.0.0.1:{port}");
        let etcd_client = format!("http://127.0.0.1:{}", free_port(local)?);
        let cfg = |file: &str, user: &str, pair: &Pair| -> Result<PathBuf> {
            let path = dir.join(file);
            let yaml = kubeconfig_yaml(
                &[(
                    name,
                    &server,
                    &ca.ca_pem,
                    Credentials {
                        user: user.to_string(),
                        pair,
                    },
                )],
                name,
            );
            crate::pki::write_private(&path, &yaml)?;
            Ok(path)
        };
        let controller_manager = cfg(
            "controller-manager.kubeconfig",
            "system:kube-controller-manager",
            &kcm,
        )?;
        let scheduler = cfg("scheduler.kubeconfig", "system:kube-scheduler", &sched)?;
        cfg("admin.kubeconfig", "kubernetes-admin", &admin)?;
        Ok(Plane {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            server,
            ca_pem: ca.ca_pem.clone(),
            ca_file: ca.ca_file.clone(),
            admin,
            node,
            node_serving,
            node_name,
            node_ip,
            pod_octet: 20 + index,
            etcd_client,
            sa_key,
            sa_pub,
            serving,
            kubelet_client,
            ca,
            controller_manager,
            scheduler,
        })
    }

    /// A client certificate for user `user` in `groups` (Kubernetes reads the certificate's
    /// common name as the user and its organizations as the groups).
    pub fn issue_user(&self, user: &str, groups: &[&str]) -> Result<Pair> {
        self.ca.issue(
            &format!("user-{user}"),
            user,
            groups,
            Usage::Client,
            &[],
            &[],
        )
    }

    /// The admin kubeconfig written by [`Plane::prepare`].
    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    fn component(&self, c: &str) -> String {
        format!("{}/{c}", self.name)
    }

    /// Start etcd.
    pub fn start_etcd(&self, sup: &Supervisor, peers: &Peers) -> Result<()> {
        let data = self.dir.join("etcd");
        std::fs::create_dir_all(&data)?;
        std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let peer = format!(
            "http://127.0.0.1:{}",
            free_port(Ipv4Addr::LOCALHOST.into())?
        );
        let args = vec![
            format!("--name={}", self.name),
            format!("--data-dir={}", data.display()),
            format!("--listen-client-urls={}", self.etcd_client),
            format!("--advertise-client-urls={}", self.etcd_client),
            format!("--listen-peer-urls={peer}"),
            format!("--initial-advertise-peer-urls={peer}"),
            format!("--initial-cluster={}={peer}", self.name),
            "--unsafe-no-fsync=true".to_string(),
            "--log-level=warn".to_string(),
        ];
        sup.start(&self.component("etcd"), &peers.etcd, &args)?;
        Ok(())
    }

    /// Start kube-apiserver (etcd must be starting).
    pub fn start_apiserver(&self, sup: &Supervisor, peers: &Peers) -> Result<()> {
        let port = self.server.rsplit(':').next().unwrap_or_default();
        let f = |p: &Path| p.display().to_string();
        let args = vec![
            format!("--etcd-servers={}", self.etcd_client),
            "--bind-address=127.0.0.1".to_string(),
            "--advertise-address=127.0.0.1".to_string(),
            format!("--secure-port={port}"),
            format!("--cert-dir={}", f(&self.dir.join("pki"))),
            format!("--tls-cert-file={}", f(&self.serving.cert_file)),
            format!("--tls-private-key-file={}", f(&self.serving.key_file)),
            format!("--client-ca-file={}", f(&self.ca_file)),
            "--authorization-mode=Node,RBAC".to_string(),
            "--enable-admission-plugins=NodeRestriction".to_string(),
            format!("--service-account-key-file={}", f(&self.sa_pub)),
            format!("--service-account-signing-key-file={}", f(&self.sa_key)),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_string(),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            format!(
                "--kubelet-client-certificate={}",
                f(&self.kubelet_client.cert_file)
            ),
            format!("--kubelet-client-key={}", f(&self.kubelet_client.key_file)),
            format!("--kubelet-certificate-authority={}", f(&self.ca_file)),
            "--kubelet-preferred-address-types=InternalIP".to_string(),
            "--allow-privileged=true".to_string(),
            "--profiling=false".to_string(),
            "--v=1".to_string(),
        ];
        sup.start(
            &self.component("kube-apiserver"),
            &peers.kube_apiserver,
            &args,
        )?;
        Ok(())
    }

    /// Start kube-controller-manager and kube-scheduler (the API server must be ready).
    pub fn start_controllers(&self, sup: &Supervisor, peers: &Peers) -> Result<()> {
        let f = |p: &Path| p.display().to_string();
        let kcm = vec![
            format!("--kubeconfig={}", f(&self.controller_manager)),
            "--secure-port=0".to_string(),
            "--leader-elect=false".to_string(),
            "--use-service-account-credentials=true".to_string(),
            format!("--service-account-private-key-file={}", f(&self.sa_key)),
            format!("--root-ca-file={}", f(&self.ca_file)),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--controllers=*".to_string(),
            "--v=1".to_string(),
        ];
        sup.start(
            &self.component("kube-controller-manager"),
            &peers.kube_controller_manager,
            &kcm,
        )?;
        let sched = vec![
            format!("--kubeconfig={}", f(&self.scheduler)),
            "--secure-port=0".to_string(),
            "--leader-elect=false".to_string(),
            "--v=1".to_string(),
        ];
        sup.start(
            &self.component("kube-scheduler"),
            &peers.kube_scheduler,
            &sched,
        )?;
        Ok(())
    }

    /// A client of the API server as `pair`.
    pub async fn client(&self, user: &str, pair: &Pair) -> Result<kube::Client> {
        let yaml = kubeconfig_yaml(
            &[(
                &self.name,
                &self.server,
                &self.ca_pem,
                Credentials {
                    user: user.to_string(),
                    pair,
                },
            )],
            &self.name,
        );
        let kc = kube::config::Kubeconfig::from_yaml(&yaml)?;
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
        Ok(kube::Client::try_from(cfg)?)
    }

    /// Wait until the API server answers `/readyz` (or a component crashed, or `timeout`).
    pub async fn wait_ready(&self, sup: &Supervisor, timeout: Duration) -> Result<kube::Client> {
        let client = self.client("kubernetes-admin", &self.admin).await?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = sup.crashed() {
                bail!("{c}");
            }
            let req = http::Request::get("/readyz").body(Vec::new())?;
            if let Ok(text) = client.request_text(req).await
                && text.trim() == "ok"
            {
                return Ok(client);
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not become ready within {}s; its log: {}",
                    self.component("kube-apiserver"),
                    timeout.as_secs(),
                    sup.log_of(&self.component("kube-apiserver")).display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
