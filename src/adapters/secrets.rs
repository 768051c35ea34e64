//! The card-token key from Secrets Manager: read once per cold start, before the first
//! event, into the settings; kept in memory only and never logged (`PanKey`'s `Debug`
//! shows nothing of it). A key that cannot be read stops the function: it must not write
//! lines without the tokens it was configured to write.

use super::settings::Settings;
use crate::mask::PanKey;

/// The key held by the secret `arn`: its `SecretString` as bytes, or its
/// `SecretBinary` (Secrets Manager caps a value at 64 KiB; `PanKey` takes 32 to 4096
/// bytes).
pub async fn pan_key(config: &aws_config::SdkConfig, arn: &str) -> Result<PanKey, String> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "PAN_TOKEN_SECRET_ARN: reading the secret failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    let bytes = match (out.secret_string(), out.secret_binary()) {
        (Some(s), _) => s.as_bytes(),
        (None, Some(b)) => b.as_ref(),
        (None, None) => return Err("PAN_TOKEN_SECRET_ARN: the secret holds no value".to_string()),
    };
    PanKey::new(bytes.to_vec()).map_err(|e| format!("PAN_TOKEN_SECRET_ARN: {e}"))
}

/// Fills `settings.core.pan_key` from `PAN_TOKEN_SECRET_ARN`, when it is set, with the
/// SDK's default configuration (the function's role).
pub async fn read_pan_key(settings: &mut Settings) -> Result<(), String> {
    let Some(arn) = settings.pan_token_secret_arn.clone() else {
        return Ok(());
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    settings.core.pan_key = Some(pan_key(&config, &arn).await?);
    Ok(())
}
