//! Card tokens end to end: the key read from moto's Secrets Manager as the Lambda reads it,
//! each masked PAN followed by HMAC-SHA-256 of the full PAN (first 12 bytes, hex), the same
//! for the same card in any grouping, and the CLI's `PAN_TOKEN_KEY` giving the same tokens.
mod common;

use aws_sdk_secretsmanager::config::{Credentials, Region};
use common::*;
use cwl_firehose::adapters::secrets::pan_key;
use cwl_firehose::{Config, Keep, LineOptions};
use hmac::{Hmac, KeyInit, Mac};

const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

/// The token, computed here from the documented rule.
fn token(pan: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(pan.as_bytes());
    let tag = mac.finalize().into_bytes();
    let hex: String = tag[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!(" [pan_token:{hex}]")
}

async fn moto_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

const DOC: &[u8] = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/pay","logStream":"s","subscriptionFilters":["f"],
  "logEvents":[
    {"id":"1","timestamp":1,"message":"charge 4111 1111 1111 1111 ok"},
    {"id":"2","timestamp":2,"message":"{\"pan\":\"4111111111111111\",\"other\":\"5555555555554444\"}"}]}"#;

#[tokio::test]
async fn the_key_comes_from_secrets_manager_and_tokens_follow_masked_pans() {
    let moto = MotoServer::start();
    let config = moto_config(&moto.endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let arn = client
        .create_secret()
        .name("cwl-firehose/pan-token-key")
        .secret_string(KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", moto.log_tail()))
        .arn()
        .unwrap()
        .to_string();

    let key = pan_key(&config, &arn).await.unwrap();
    assert_eq!(format!("{key:?}"), "PanKey(..)", "the key is never shown");
    let missing = pan_key(&config, &format!("{arn}-gone")).await.unwrap_err();
    assert!(missing.contains("PAN_TOKEN_SECRET_ARN"), "{missing}");

    let ev = event(&[("r", &b64(&gz(DOC)))]);
    let core = Config {
        lines: LineOptions {
            mask: Some(Keep::First6Last4),
            ..LineOptions::default()
        },
        pan_key: Some(key),
        ..Config::default()
    };
    let (response, summary) = run(core, &ev);
    let lines = &check_contract(&ev, &response)[0].lines;
    let visa = token("4111111111111111");
    assert_eq!(
        lines[0]["message"],
        format!("charge 4111 11** **** 1111{visa} ok")
    );
    assert_eq!(
        lines[1]["message"],
        format!(
            "{{\"pan\":\"411111******1111{visa}\",\"other\":\"555555******4444{}\"}}",
            token("5555555555554444")
        ),
        "the same card, the same token, whatever its grouping"
    );
    assert_eq!(summary.masked_pans, 3);
    assert!(!String::from_utf8_lossy(&response).contains(KEY));
}

#[test]
fn the_cli_takes_the_key_from_pan_token_key() {
    let ev = event(&[("r", &b64(&gz(DOC)))]);
    let out = transform_lines_with_env(&ev, &[("MASK_PAN", "true"), ("PAN_TOKEN_KEY", KEY)]);
    let first = out.stdout.split(|&c| c == b'\n').next().unwrap();
    let line: serde_json::Value = serde_json::from_slice(first).unwrap();
    assert_eq!(
        line["message"],
        format!("charge 4111 11** **** 1111{} ok", token("4111111111111111"))
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(KEY), "{stderr}");
}
