//! `guardsync-lambda`: the AWS Lambda entry point (`bootstrap` in the
//! function package). Logs are JSON, one object per line, with the target's
//! `account` and `region` in its span, so that CloudWatch Logs Insights can
//! query them; everything else lives in [`guardsync::lambda`].

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,guardsync=info"));
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, Diagnostic> {
    let deadline = event.context.deadline();
    // The event is read here rather than by the runtime, so that a bad one
    // is a `Usage` error like every other mistake in it.
    let payload: guardsync::lambda::Event = serde_json::from_value(event.payload).map_err(|e| {
        let message = format!("the event is not guardsync's: {e}");
        tracing::error!(kind = "Usage", "{message}");
        Diagnostic {
            error_type: "Usage".to_owned(),
            error_message: message,
        }
    })?;
    // Test support, compiled only with the `sim` feature (the tests' build):
    // the synthetic organization at the scale benchmark's size.
    #[cfg(feature = "sim")]
    if let Ok(spec) = std::env::var("GUARDSYNC_SIMULATE") {
        return Box::pin(guardsync::sim::lambda_invoke(&spec))
            .await
            .map_err(|f| Diagnostic {
                error_type: f.kind.to_owned(),
                error_message: f.message,
            });
    }
    // Boxed: the run's future is deep, and the runtime's own types nest it
    // further (a non-incremental build ran out of the type-layout query depth).
    Box::pin(guardsync::lambda::invoke(payload, deadline))
        .await
        .map_err(|f| {
            tracing::error!(kind = f.kind, "{}", f.message);
            Diagnostic {
                error_type: f.kind.to_owned(),
                error_message: f.message,
            }
        })
}
