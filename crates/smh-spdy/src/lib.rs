//! SPDY/3.1, as far as Kubernetes' streaming protocols need it, and the server side of the
//! port-forward protocol (`portforward.k8s.io`) that `kubectl port-forward` speaks.
//!
//! - [`frame`]: SPDY/3 frames to and from bytes, with the header blocks' zlib contexts (one per
//!   direction and session, primed with SPDY/3's dictionary, each block ended by a sync flush).
//! - [`portforward`]: serves one port-forward session over any byte stream: an HTTP connection
//!   upgraded to `SPDY/3.1`, or the binary messages of a WebSocket whose subprotocol is
//!   `SPDY/3.1+portforward.k8s.io` (the tunnel kubectl uses since 1.30), turned into bytes by
//!   the caller. Opening the pod's port is the caller's ([`portforward::Connect`]).
//!
//! Flow control (SPDY/3.1's WINDOW_UPDATE) is read and ignored: Kubernetes' clients do not
//! enforce windows, and the byte stream underneath already applies backpressure.
pub mod frame;
pub mod portforward;

mod dictionary;

pub use portforward::serve;
