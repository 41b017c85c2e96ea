//! Building and running the server: `Application::build` binds the listener (port 0 in
//! tests) and exposes the address; `run_until_stopped` serves until the shutdown future
//! completes.

use duijie_app::app::{App, IndexMode, StartError};
use duijie_app::settings::Settings;
use std::net::SocketAddr;

/// A built, bound, not yet serving application.
pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    metrics: Option<(tokio::net::TcpListener, SocketAddr)>,
    ctx: App,
    demo: Option<duijie_app::demo::DemoCounts>,
    demo_accounts: Option<String>,
}

impl Application {
    /// Opens the store and the index (catching up after a crash), loads the demo data into
    /// an empty store when enabled, and binds the listener.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let bind = settings.server.bind.clone();
        let load_demo = settings.demo.load;
        let ctx = App::open(settings, IndexMode::Writer).await?;
        // the application composes mail with the server's templates
        ctx.set_mail_renderer(std::sync::Arc::new(crate::web::mail::MailTemplates));
        let demo = if load_demo && duijie_app::demo::store_is_empty(&ctx).await? {
            Some(
                duijie_app::demo::load_demo(&ctx)
                    .await
                    .map_err(StartError::Demo)?,
            )
        } else {
            None
        };
        if demo.is_some() {
            // the index was empty when the context opened: build the semantic model now, in
            // the background, rather than on the first match request
            ctx.refresh_matching_model();
            // an example event with a pairing and a few outcomes; the demo stays usable
            // without it, so a failure is reported and start-up goes on
            if let Err(e) = duijie_app::demo::create_demo_event(&ctx).await {
                tracing::warn!(error = %e, "the demo event could not be created");
            }
        }
        // demo accounts: created with the demo data, shown again at every start in demo mode
        let demo_accounts = if demo.is_some() {
            let accounts = duijie_app::demo::create_demo_accounts(&ctx)
                .await
                .map_err(StartError::Demo)?;
            Some(duijie_app::demo::describe_accounts(&accounts))
        } else if load_demo {
            std::fs::read_to_string(
                ctx.settings
                    .data
                    .dir
                    .join(duijie_app::demo::DEMO_ACCOUNTS_FILE),
            )
            .ok()
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| {
            StartError::Settings(duijie_app::settings::SettingsError(format!(
                "cannot listen on {bind}: {e}"
            )))
        })?;
        let addr = listener.local_addr().map_err(|e| {
            StartError::Settings(duijie_app::settings::SettingsError(e.to_string()))
        })?;
        ctx.set_bound_addr(addr);
        let metrics = match ctx.settings.metrics.listen.as_str() {
            "" => None,
            m => {
                let l = tokio::net::TcpListener::bind(m).await.map_err(|e| {
                    StartError::Settings(duijie_app::settings::SettingsError(format!(
                        "cannot listen on {m} (metrics.listen): {e}"
                    )))
                })?;
                let a = l.local_addr().map_err(|e| {
                    StartError::Settings(duijie_app::settings::SettingsError(e.to_string()))
                })?;
                Some((l, a))
            }
        };
        Ok(Application {
            listener,
            addr,
            metrics,
            ctx,
            demo,
            demo_accounts,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics-only listener's address, when `[metrics] listen` asks for one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.1)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The shared context (tests use it to inspect the store and the index).
    pub fn context(&self) -> &App {
        &self.ctx
    }

    /// What the demo loader loaded, when it ran.
    pub fn demo_loaded(&self) -> Option<duijie_app::demo::DemoCounts> {
        self.demo
    }

    /// The demo accounts to print (demo mode only).
    pub fn demo_accounts(&self) -> Option<&str> {
        self.demo_accounts.as_deref()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = crate::routes::router(self.ctx.clone());
        // match alerts and webhook deliveries run beside the server, never in a write
        let alerts = duijie_app::alerts::start(&self.ctx);
        let metrics = self.metrics.map(|(l, _)| {
            let router = crate::routes::metrics_router(self.ctx.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(l, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            })
        });
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        alerts.stop().await;
        if let Some(m) = metrics {
            m.abort();
        }
        served?;
        self.ctx.close().await;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
