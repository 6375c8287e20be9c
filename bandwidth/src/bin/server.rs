//! `fitcheck-bandwidth-server`: the bandwidth endpoint on its own, until the controller serves
//! it.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "fitcheck-bandwidth-server",
    version,
    about = "Serves /bandwidth/download and /bandwidth/upload for fitcheck agents."
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8480")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FITCHECK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!(addr = %cli.listen, "Bandwidth endpoint listening.");
    fitcheck_bandwidth::serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")?;
    Ok(())
}
