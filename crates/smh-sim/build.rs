//! Compiles Kubernetes' protobuf definitions (`proto/`, vendored by
//! `scripts/vendor-k8s-protos.py`) into a descriptor set the API server uses to decode
//! kubectl's `application/vnd.kubernetes.protobuf` request bodies.

use std::path::{Path, PathBuf};

fn protos(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("proto dir")
        .map(|e| e.expect("proto dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            protos(&p, out);
        } else if p.extension().is_some_and(|e| e == "proto") {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new("proto");
    println!("cargo:rerun-if-changed=proto");
    let mut files = Vec::new();
    protos(root, &mut files);
    let rel: Vec<PathBuf> = files
        .iter()
        .map(|f| f.strip_prefix(root).expect("under proto/").to_path_buf())
        .collect();
    let fds = protox::compile(&rel, [root]).expect("Kubernetes .proto files compile");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("k8s-api.fds");
    std::fs::write(out, prost::Message::encode_to_vec(&fds)).expect("write descriptor set");
}
