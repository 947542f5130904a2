//! A small axum server in the background on a loopback listener: the suite's stand-ins for
//! the provider (the JWT providers' key sources, the mock API) all start and stop the same way.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// A running server. Dropping it aborts the server; [`Serving::shutdown`] ends it
/// gracefully.
#[derive(Debug)]
pub struct Serving {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Serving {
    /// Serves `app` on `listener` in the background.
    pub fn start(listener: TcpListener, app: Router) -> std::io::Result<Serving> {
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Serving {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if self.shutdown.is_some() {
            self.task.abort();
        }
    }
}
