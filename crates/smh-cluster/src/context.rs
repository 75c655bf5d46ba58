//! Kubeconfig and contexts: the kubeconfig is read once, cluster names are resolved to
//! contexts, and one kube client is built per context.
//!
//! Which kubeconfig: `--kubeconfig PATH` (that file only), else `$KUBECONFIG` (several files
//! joined with `:`, merged with kubectl's rules: the first file to define a context, cluster
//! or user wins, and `current-context` comes from the first file that sets it; files that do
//! not exist are skipped, as kubectl does), else `~/.kube/config`.
//!
//! Which context serves a cluster name, first match wins:
//! 1. `--cluster NAME=CTX`;
//! 2. the registry (`kubectl smh cluster register NAME --context CTX`);
//! 3. a context named like the cluster.
//!
//! The management cluster's context is `--mgmt-context`, else the current context.
//!
//! Authentication is kube-rs's: client certificates, tokens, token files, exec plugins and
//! the `oidc`/`gcp` auth providers, exactly as `kube::Config::from_custom_kubeconfig` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper::http::uri as http_uri;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{ClusterError, ConfigError};
use crate::registry::Registry;
use crate::retry::RetryOptions;
use smh_core::inspect::names::{ClusterName, ContextName};
use smh_core::inspect::target::{ClusterTarget, MappingSource, redact_server};

/// Where the kubeconfig comes from; found without reading any file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigOrigin {
    /// `--kubeconfig PATH`.
    Flag(PathBuf),
    /// `$KUBECONFIG`, split on the platform's path separator, empty entries dropped.
    Env(Vec<PathBuf>),
    /// `~/.kube/config`.
    Default(PathBuf),
    /// No flag, no `$KUBECONFIG`, no home directory.
    Nowhere,
}

impl KubeconfigOrigin {
    /// Looks at the flag and the environment only.
    pub fn locate(flag: Option<&Path>) -> Self {
        if let Some(p) = flag {
            return KubeconfigOrigin::Flag(p.to_path_buf());
        }
        if let Some(v) = std::env::var_os("KUBECONFIG") {
            let paths: Vec<PathBuf> = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            if !paths.is_empty() {
                return KubeconfigOrigin::Env(paths);
            }
        }
        match dirs::home_dir() {
            Some(h) => KubeconfigOrigin::Default(h.join(".kube").join("config")),
            None => KubeconfigOrigin::Nowhere,
        }
    }

    /// The candidate files, in precedence order.
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            KubeconfigOrigin::Flag(p) | KubeconfigOrigin::Default(p) => vec![p.clone()],
            KubeconfigOrigin::Env(ps) => ps.clone(),
            KubeconfigOrigin::Nowhere => Vec::new(),
        }
    }

    /// Whether any candidate file exists (one `stat` per file, no reading).
    pub fn any_exists(&self) -> bool {
        self.paths().iter().any(|p| p.exists())
    }
}

/// The merged kubeconfig, and which file each context came from.
#[derive(Debug, Clone)]
pub struct KubeconfigSet {
    origin: KubeconfigOrigin,
    files: Vec<PathBuf>,
    merged: Kubeconfig,
    context_file: BTreeMap<String, PathBuf>,
}

impl KubeconfigSet {
    /// Reads the kubeconfig the flag or the environment points at.
    pub fn load(flag: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_origin(KubeconfigOrigin::locate(flag))
    }

    /// Reads the kubeconfig files of `origin`, once, and merges them.
    pub fn load_origin(origin: KubeconfigOrigin) -> Result<Self, ConfigError> {
        let candidates = origin.paths();
        let mut files = Vec::new();
        let mut merged = Kubeconfig::default();
        let mut context_file = BTreeMap::new();
        for path in &candidates {
            if !path.exists() {
                if let KubeconfigOrigin::Flag(_) = origin {
                    return Err(ConfigError::KubeconfigMissing {
                        path: path.clone(),
                        from: "--kubeconfig",
                    });
                }
                continue;
            }
            let kc = Kubeconfig::read_from(path).map_err(|e| ConfigError::KubeconfigRead {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            for c in &kc.contexts {
                context_file
                    .entry(c.name.clone())
                    .or_insert_with(|| path.clone());
            }
            merged = merged.merge(kc).map_err(|e| ConfigError::KubeconfigRead {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            files.push(path.clone());
        }
        if files.is_empty() {
            return Err(ConfigError::NoKubeconfig { tried: candidates });
        }
        Ok(KubeconfigSet {
            origin,
            files,
            merged,
            context_file,
        })
    }

    /// Where the files came from (`--kubeconfig`, `KUBECONFIG`, the default path).
    pub fn origin(&self) -> &KubeconfigOrigin {
        &self.origin
    }

    /// The files that were read, in precedence order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// All context names, sorted.
    pub fn contexts(&self) -> Vec<ContextName> {
        let mut v: Vec<ContextName> = self
            .merged
            .contexts
            .iter()
            .map(|c| ContextName::new(c.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The merged kubeconfig's `current-context`, if it sets one.
    pub fn current_context(&self) -> Option<ContextName> {
        self.merged
            .current_context
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(ContextName::from)
    }

    /// Whether any of the files defines `context`.
    pub fn contains(&self, context: &ContextName) -> bool {
        self.merged
            .contexts
            .iter()
            .any(|c| c.name == context.as_str())
    }

    /// The file a context was first defined in.
    pub(crate) fn file_of(&self, context: &ContextName) -> Option<&Path> {
        self.context_file
            .get(context.as_str())
            .map(PathBuf::as_path)
    }

    /// The API server URL of a context's cluster, without user-info.
    pub fn server_of(&self, context: &ContextName) -> Option<String> {
        let ctx = self
            .merged
            .contexts
            .iter()
            .find(|c| c.name == context.as_str())?
            .context
            .as_ref()?;
        let cluster = self
            .merged
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)?
            .cluster
            .as_ref()?;
        cluster.server.as_deref().map(redact_server)
    }

    /// Whether the context's cluster sets `proxy-url`.
    fn cluster_has_proxy_url(&self, context: &ContextName) -> bool {
        let Some(ctx) = self
            .merged
            .contexts
            .iter()
            .find(|c| c.name == context.as_str())
            .and_then(|c| c.context.as_ref())
        else {
            return false;
        };
        self.merged
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .and_then(|c| c.cluster.as_ref())
            .is_some_and(|c| c.proxy_url.as_deref().is_some_and(|p| !p.is_empty()))
    }

    /// Fails with the list of contexts when `context` is not in the kubeconfig.
    pub fn require(&self, context: &ContextName, from: &str) -> Result<(), ConfigError> {
        if self.contains(context) {
            Ok(())
        } else {
            Err(ConfigError::ContextNotFound {
                context: context.clone(),
                from: from.to_string(),
                files: self.files.clone(),
                available: self.contexts(),
            })
        }
    }

    /// A kube `Config` for `context`, with connect, read and write timeouts set to
    /// `timeout`. With `streaming`, no read timeout (watches, port-forward), but still the
    /// connect timeout.
    pub(crate) async fn client_config(
        &self,
        context: &ContextName,
        timeout: Duration,
        streaming: bool,
    ) -> Result<kube::Config, ConfigError> {
        self.require(context, "")?;
        let opts = KubeConfigOptions {
            context: Some(context.as_str().to_string()),
            ..Default::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(self.merged.clone(), &opts)
            .await
            .map_err(|e| ConfigError::ClientConfig {
                context: context.clone(),
                file: self.file_of(context).map(Path::to_path_buf),
                detail: e.to_string(),
            })?;
        // Like kubectl (Go's ProxyFromEnvironment), never send requests for a loopback API
        // server (the demo clusters, `kubectl proxy`, kind) through a proxy taken from
        // HTTPS_PROXY; a `proxy-url` in the kubeconfig is still honoured.
        if config.proxy_url.is_some()
            && is_loopback(&config.cluster_url)
            && !self.cluster_has_proxy_url(context)
        {
            config.proxy_url = None;
        }
        // kube applies these on its hyper connector (hyper-timeout): the connect timeout
        // covers TCP and TLS, the read timeout each wait for response bytes, the write
        // timeout each send. `reset_reader_on_write` makes the read timeout count from the
        // request, not from when a pooled connection went idle.
        config.connect_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        if streaming {
            config.read_timeout = None;
        } else {
            config.read_timeout = Some(timeout);
            config.reset_reader_on_write = true;
        }
        Ok(config)
    }
}

/// kube's client stack with the retry layer on top ([`crate::retry`]): kube's own retry
/// of 429/503/504 (on any request, also those not safe to repeat) is turned off. The
/// buffer below the layer lets each attempt go out on its own handle of the stack.
fn build_client(
    mut config: kube::Config,
    policy: crate::retry::layer::Policy,
) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&crate::retry::RetryLayer::new(policy))
        .build())
}

/// Whether a URL's host is `localhost` or a loopback address.
pub(crate) fn is_loopback(uri: &http_uri::Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a command needs to know to resolve contexts, taken from the global flags.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// `--kubeconfig`: the one file to read instead of `KUBECONFIG` or the default.
    pub kubeconfig: Option<PathBuf>,
    /// `--mgmt-context`: the management cluster's context instead of the current context.
    pub mgmt_context: Option<String>,
    /// `--cluster NAME=CTX` values, unparsed.
    pub cluster_flags: Vec<String>,
    /// `--request-timeout`: how long one request may take.
    pub request_timeout: Duration,
    /// `--retry-timeout`, `-v`'s retry log, and the retry counters.
    pub retry: RetryOptions,
}

/// How one cluster name resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The SMH cluster name.
    pub cluster: ClusterName,
    /// The kubeconfig context it resolves to.
    pub context: ContextName,
    /// What mapped it: a flag, the registry, or a context of the same name.
    pub source: MappingSource,
}

/// Parses `--cluster NAME=CTX` values. A name given twice with different contexts is an
/// error; the same pair twice is fine.
pub fn parse_cluster_flags(
    values: &[String],
) -> Result<BTreeMap<ClusterName, ContextName>, ConfigError> {
    let mut out: BTreeMap<ClusterName, ContextName> = BTreeMap::new();
    for v in values {
        let bad = |reason: &str| ConfigError::ClusterFlag {
            value: v.clone(),
            reason: reason.to_string(),
        };
        let (name, ctx) = v.split_once('=').ok_or_else(|| bad("no '='"))?;
        let (name, ctx) = (name.trim(), ctx.trim());
        if name.is_empty() {
            return Err(bad("the cluster name is empty"));
        }
        if ctx.is_empty() {
            return Err(bad("the context is empty"));
        }
        let name = ClusterName::from(name);
        name.validate().map_err(|m| bad(&m))?;
        let ctx = ContextName::from(ctx);
        if let Some(prev) = out.get(&name)
            && prev != &ctx
        {
            return Err(bad(&format!(
                "cluster {name} is already mapped to context {prev} by another --cluster"
            )));
        }
        out.insert(name, ctx);
    }
    Ok(out)
}

/// The kubeconfig plus the cluster-name mapping: everything needed to turn cluster names
/// into targets and clients. Built once per command.
#[derive(Debug, Clone)]
pub struct Contexts {
    kubeconfig: KubeconfigSet,
    flags: BTreeMap<ClusterName, ContextName>,
    registry: Registry,
    mgmt_flag: Option<ContextName>,
    timeout: Duration,
    retry: RetryOptions,
}

impl Contexts {
    /// Reads the kubeconfig (once) and the registry, and parses `--cluster` flags.
    pub fn load(opts: &ContextOptions) -> Result<Self, ConfigError> {
        let flags = parse_cluster_flags(&opts.cluster_flags)?;
        let kubeconfig = KubeconfigSet::load(opts.kubeconfig.as_deref())?;
        let registry = match Registry::load_default() {
            Ok(r) => r,
            // No HOME and no KUBECTL_SMH_CONFIG: nothing can have been registered.
            Err(ConfigError::NoConfigDir) => Registry::empty("<no user config directory>"),
            Err(e) => return Err(e),
        };
        Ok(Self::new(
            kubeconfig,
            flags,
            registry,
            opts.mgmt_context.as_deref().map(ContextName::from),
            opts.request_timeout,
        )
        .with_retry(opts.retry.clone()))
    }

    /// Contexts over an already loaded kubeconfig and registry (`--cluster` values unparsed); errors as [`Contexts::load`].
    pub fn new(
        kubeconfig: KubeconfigSet,
        flags: BTreeMap<ClusterName, ContextName>,
        registry: Registry,
        mgmt_flag: Option<ContextName>,
        timeout: Duration,
    ) -> Self {
        Contexts {
            kubeconfig,
            flags,
            registry,
            mgmt_flag,
            timeout,
            retry: RetryOptions::default(),
        }
    }

    /// The same contexts, with clients that retry as `retry` says (default:
    /// [`RetryOptions::default`]).
    pub fn with_retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// How requests are retried; its `stats` count the retries of every client built here.
    pub fn retry(&self) -> &RetryOptions {
        &self.retry
    }

    /// The kubeconfig files, merged as kubectl merges them.
    pub fn kubeconfig(&self) -> &KubeconfigSet {
        &self.kubeconfig
    }

    /// The `cluster register` file.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The timeout of every request (`--request-timeout`).
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// The `--cluster` mappings.
    pub fn flag_mappings(&self) -> &BTreeMap<ClusterName, ContextName> {
        &self.flags
    }

    /// The management cluster's context: `--mgmt-context`, else the current context. Fails
    /// when it is not in the kubeconfig.
    pub fn mgmt_context(&self) -> Result<ContextName, ConfigError> {
        match &self.mgmt_flag {
            Some(ctx) => {
                self.kubeconfig.require(ctx, "--mgmt-context")?;
                Ok(ctx.clone())
            }
            None => {
                let ctx = self.kubeconfig.current_context().ok_or_else(|| {
                    ConfigError::NoCurrentContext {
                        files: self.kubeconfig.files().to_vec(),
                        available: self.kubeconfig.contexts(),
                    }
                })?;
                self.kubeconfig.require(&ctx, "current-context")?;
                Ok(ctx)
            }
        }
    }

    /// Resolves a cluster name to its context: `--cluster`, then the registry, then a
    /// context of the same name. The context must exist in the kubeconfig.
    pub fn resolve(&self, cluster: &ClusterName) -> Result<Resolution, ConfigError> {
        if let Some(ctx) = self.flags.get(cluster) {
            self.kubeconfig
                .require(ctx, &format!("--cluster {cluster}={ctx}"))?;
            return Ok(Resolution {
                cluster: cluster.clone(),
                context: ctx.clone(),
                source: MappingSource::Flag,
            });
        }
        if let Some(ctx) = self.registry.get(cluster) {
            self.kubeconfig.require(
                ctx,
                &format!(
                    "the registry {}: {cluster} -> {ctx}",
                    self.registry.path().display()
                ),
            )?;
            return Ok(Resolution {
                cluster: cluster.clone(),
                context: ctx.clone(),
                source: MappingSource::Registry,
            });
        }
        let same = ContextName::new(cluster.as_str());
        if self.kubeconfig.contains(&same) {
            return Ok(Resolution {
                cluster: cluster.clone(),
                context: same,
                source: MappingSource::SameName,
            });
        }
        Err(ConfigError::ClusterUnmapped {
            cluster: cluster.clone(),
            registry: self.registry.path().to_path_buf(),
            available: self.kubeconfig.contexts(),
        })
    }

    fn target_for(
        &self,
        cluster: Option<ClusterName>,
        context: ContextName,
        mgmt: bool,
        source: MappingSource,
    ) -> ClusterTarget {
        ClusterTarget {
            server: self
                .kubeconfig
                .server_of(&context)
                .unwrap_or_else(|| "(no server in kubeconfig)".to_string()),
            kubeconfig: self.kubeconfig.file_of(&context).map(Path::to_path_buf),
            cluster,
            context,
            mgmt,
            source,
        }
    }

    /// The target of a named cluster (marked mgmt when it resolves to the mgmt context).
    pub fn cluster_target(&self, cluster: &ClusterName) -> Result<ClusterTarget, ConfigError> {
        let r = self.resolve(cluster)?;
        let mgmt = self.mgmt_context().ok().as_ref() == Some(&r.context);
        Ok(self.target_for(Some(r.cluster), r.context, mgmt, r.source))
    }

    /// The management cluster's target. It carries a cluster name when one of `clusters`
    /// resolves to the mgmt context.
    pub fn mgmt_target(&self, clusters: &[ClusterName]) -> Result<ClusterTarget, ConfigError> {
        let ctx = self.mgmt_context()?;
        for c in clusters {
            if let Ok(r) = self.resolve(c)
                && r.context == ctx
            {
                return Ok(self.target_for(Some(r.cluster), ctx, true, r.source));
            }
        }
        Ok(self.target_for(None, ctx, true, MappingSource::Mgmt))
    }

    /// The targets a command touches: the management cluster first (when `include_mgmt`),
    /// then each named cluster, sorted by name; a cluster that resolves to the management
    /// context is shown once, as the management cluster. This is what every mutating
    /// command prints (with [`smh_core::inspect::target::targets_banner`]) before it changes anything.
    /// Fails, naming the cluster, when a name cannot be resolved.
    pub fn describe_targets(
        &self,
        clusters: &[ClusterName],
        include_mgmt: bool,
    ) -> Result<Vec<ClusterTarget>, ConfigError> {
        let mut names: Vec<ClusterName> = clusters.to_vec();
        names.sort();
        names.dedup();
        let mut out = Vec::new();
        let mgmt = if include_mgmt {
            let t = self.mgmt_target(&names)?;
            out.push(t.clone());
            Some(t)
        } else {
            None
        };
        for c in &names {
            let t = self.cluster_target(c)?;
            if let Some(m) = &mgmt
                && m.cluster.as_ref() == Some(c)
            {
                continue;
            }
            out.push(t);
        }
        Ok(out)
    }

    /// Builds a client for `target`. Must be called inside a tokio runtime.
    pub async fn client(&self, target: &ClusterTarget) -> Result<ClusterClient, ConfigError> {
        self.client_with(target, false).await
    }

    /// A client without a read timeout, for watches and port-forwards.
    pub async fn streaming_client(
        &self,
        target: &ClusterTarget,
    ) -> Result<ClusterClient, ConfigError> {
        self.client_with(target, true).await
    }

    async fn client_with(
        &self,
        target: &ClusterTarget,
        streaming: bool,
    ) -> Result<ClusterClient, ConfigError> {
        let config = self
            .kubeconfig
            .client_config(&target.context, self.timeout, streaming)
            .await?;
        // Building the client runs exec credential plugins (`gke-gcloud-auth-plugin`,
        // `aws eks get-token`, ...), which block: off the async threads, so that several
        // clusters' plugins run at the same time.
        let policy = crate::retry::layer::Policy {
            options: self.retry.clone(),
            cluster: target.display_name().to_string(),
            request_timeout: self.timeout,
        };
        let built = tokio::task::spawn_blocking(move || build_client(config, policy)).await;
        let client = match built {
            Ok(r) => r,
            Err(join) => {
                return Err(ConfigError::ClientConfig {
                    context: target.context.clone(),
                    file: target.kubeconfig.clone(),
                    detail: format!("building the client failed: {join}"),
                });
            }
        }
        .map_err(|e| match e {
            // kube runs exec plugins and reads token files while building the client.
            kube::Error::Auth(a) => ConfigError::Credentials {
                context: target.context.clone(),
                file: target.kubeconfig.clone(),
                detail: crate::error::describe_auth_error(&a),
            },
            e => {
                let mut detail = e.to_string();
                if detail.contains("KeyMismatch") || detail.contains("invalid private key") {
                    detail.push_str(
                        "; check client-certificate / client-certificate-data and client-key / \
                         client-key-data of the context's user: the key must be the \
                         certificate's own",
                    );
                }
                ConfigError::ClientConfig {
                    context: target.context.clone(),
                    file: target.kubeconfig.clone(),
                    detail,
                }
            }
        })?;
        Ok(ClusterClient {
            target: target.clone(),
            client,
            timeout: self.timeout,
        })
    }

    /// Clients for several targets; targets sharing a context share one client.
    pub async fn clients(
        &self,
        targets: &[ClusterTarget],
    ) -> Result<Vec<ClusterClient>, ConfigError> {
        // One client per context, built concurrently (exec plugins run in parallel).
        let mut firsts: Vec<&ClusterTarget> = Vec::new();
        for t in targets {
            if !firsts.iter().any(|f| f.context == t.context) {
                firsts.push(t);
            }
        }
        let built = futures::future::join_all(firsts.iter().map(|t| self.client(t))).await;
        let mut by_context: BTreeMap<ContextName, kube::Client> = BTreeMap::new();
        for (t, c) in firsts.iter().zip(built) {
            by_context.insert(t.context.clone(), c?.client);
        }
        Ok(targets
            .iter()
            .filter_map(|t| {
                by_context.get(&t.context).map(|client| ClusterClient {
                    target: t.clone(),
                    client: client.clone(),
                    timeout: self.timeout,
                })
            })
            .collect())
    }

    /// Every cluster name that resolves, with its context and how: `--cluster` flags, the
    /// registry, then every kubeconfig context as a same-name cluster (unless that name is
    /// already mapped). For `cluster list`.
    pub fn mappings(&self) -> Vec<Mapping> {
        let mut out: BTreeMap<ClusterName, Mapping> = BTreeMap::new();
        for (name, ctx) in self.registry.entries() {
            out.insert(
                name.clone(),
                self.mapping(name, ctx, MappingSource::Registry),
            );
        }
        for (name, ctx) in &self.flags {
            out.insert(name.clone(), self.mapping(name, ctx, MappingSource::Flag));
        }
        for ctx in self.kubeconfig.contexts() {
            let name = ClusterName::new(ctx.as_str());
            out.entry(name.clone())
                .or_insert_with(|| self.mapping(&name, &ctx, MappingSource::SameName));
        }
        out.into_values().collect()
    }

    fn mapping(&self, name: &ClusterName, ctx: &ContextName, source: MappingSource) -> Mapping {
        Mapping {
            name: name.clone(),
            context: ctx.clone(),
            server: self.kubeconfig.server_of(ctx),
            source,
            context_exists: self.kubeconfig.contains(ctx),
            kubeconfig: self.kubeconfig.file_of(ctx).map(Path::to_path_buf),
        }
    }
}

/// One row of `cluster list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// The SMH cluster name.
    pub name: ClusterName,
    /// The kubeconfig context it maps to.
    pub context: ContextName,
    /// The context's API server address, when the context exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// What mapped it.
    pub source: MappingSource,
    /// False when the registry or a flag names a context that is not in the kubeconfig.
    pub context_exists: bool,
    /// The kubeconfig file that defines the context, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<PathBuf>,
}

/// A kube client for one target, with what error messages need.
#[derive(Clone)]
pub struct ClusterClient {
    /// The cluster the client talks to (for messages).
    pub target: ClusterTarget,
    /// The client itself.
    pub client: kube::Client,
    /// The request timeout the client was built with.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClusterClient {
    /// Converts a kube error on `op` into a [`ClusterError`] naming this target.
    pub fn error(&self, op: &crate::error::ApiOp, err: kube::Error) -> ClusterError {
        ClusterError::from_kube(&self.target, self.timeout, op, err)
    }

    /// `GET /version`.
    pub async fn server_version(
        &self,
    ) -> Result<k8s_openapi::apimachinery::pkg::version::Info, ClusterError> {
        self.client
            .apiserver_version()
            .await
            .map_err(|e| self.error(&crate::error::ApiOp::path("/version"), e))
    }
}

#[cfg(test)]
mod tests;
