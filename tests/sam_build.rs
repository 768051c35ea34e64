//! What `sam build` produces is the function the tests pass.
//!
//! The x86_64 build commands of docs/deploy.md (read from it, so the doc and
//! this test cannot drift) run against template.yaml into a fresh build
//! folder: SAM's own `rust-cargolambda` workflow, the template's `Binary`
//! property and function settings. Then the built
//! `LogsProcessorFunction/bootstrap` runs as Lambda runs it, one warm
//! process polling a Runtime API endpoint on 127.0.0.1 that this test serves
//! (tests/support/runtime_api.rs), with the environment the built template
//! gives the function (its parameters' defaults, MASK_PAN=true included),
//! and answers every fixture event with exactly its golden response. The
//! built template passes cfn-lint.
//!
//! What differs from a deploy-time build is in tests/support/release_build.rs
//! (x86_64 instead of arm64, LTO off and 16 codegen units, target/sam-build).
//! `sam deploy` is not run (it needs an AWS account).

mod common;
#[path = "support/release_build.rs"]
mod release_build;
#[path = "support/runtime_api.rs"]
mod runtime_api;
#[path = "support/template.rs"]
mod template;

use common::{check_contract, fixture, fixture_names, root};
use cwl_firehose::adapters::settings::Settings;
use release_build::{configure, tool};
use runtime_api::{spawn_function, Outcome, RuntimeApi};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The doc whose commands this test runs.
const DEPLOY_DOC: &str = "docs/deploy.md";

struct Built {
    dir: PathBuf,
    bootstrap: PathBuf,
    /// The function in the built template.
    function: template::Function,
}

fn sam() -> PathBuf {
    tool("VENV_TEMPLATE", ".venv-template", "sam")
}

/// The commands of the doc's fenced block that follows the line `marker`.
fn doc_commands(marker: &str) -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(root().join(DEPLOY_DOC)).unwrap();
    let block: Vec<&str> = doc
        .lines()
        .skip_while(|l| !l.contains(marker))
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(
        !block.is_empty(),
        "{DEPLOY_DOC}: no command block after {marker:?}"
    );
    block
        .iter()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The doc's x86_64 commands: `cargo lambda build ...`, then `sam build ...`.
fn doc_build_commands() -> (Vec<String>, Vec<String>) {
    let commands = doc_commands("<!-- x86_64 commands, run by tests/sam_build.rs -->");
    let find = |prefix: &[&str]| {
        commands
            .iter()
            .find(|c| c.len() >= prefix.len() && c[..prefix.len()] == *prefix)
            .unwrap_or_else(|| panic!("{DEPLOY_DOC}: no `{}` command", prefix.join(" ")))
            .clone()
    };
    (find(&["cargo", "lambda", "build"]), find(&["sam", "build"]))
}

/// Dummy AWS settings (sam needs none to build; nothing may reach AWS) and
/// no telemetry or version check (SAM CLI would ask PyPI once a week).
fn offline_sam(cmd: &mut Command, app_dir: &Path) {
    std::fs::create_dir_all(app_dir).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        app_dir.join("metadata.json"),
        format!(r#"{{"telemetryEnabled": false, "lastVersionCheck": {now}}}"#),
    )
    .unwrap();
    cmd.env("SAM_CLI_TELEMETRY", "0")
        // SAM CLI's own switch for its config folder (samcli/cli/global_config.py).
        .env("__SAM_CLI_APP_DIR", app_dir)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null());
}

/// Runs the doc's x86_64 build once per test process (a failed build fails
/// every test that needs it, without building again).
fn built() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        std::panic::catch_unwind(build).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    });
    match built {
        Ok(built) => built,
        Err(e) => panic!("the build failed: {e}"),
    }
}

fn build() -> Built {
    {
        let (cargo_lambda, sam_build) = doc_build_commands();
        let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sam-build");
        let dir = scratch.join("build");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();

        // 1. cargo lambda build --release --x86-64 (both binaries, as a user
        //    builds before `sam build`).
        let started = Instant::now();
        let out = configure(&mut Command::new("cargo"))
            .args(&cargo_lambda[1..])
            .current_dir(root())
            .output()
            .expect("cargo lambda build runs");
        assert!(
            out.status.success(),
            "{}:\n{}",
            cargo_lambda.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let cargo_s = started.elapsed().as_secs_f64();

        // 2. sam build --parameter-overrides Architecture=x86_64, into the
        //    scratch folder (the doc's command writes .aws-sam/build).
        let started = Instant::now();
        let mut cmd = Command::new(sam());
        configure(&mut cmd)
            .args(&sam_build[1..])
            .args(["--template-file", "template.yaml", "--build-dir"])
            .arg(&dir)
            .current_dir(root());
        offline_sam(&mut cmd, &scratch.join("sam-app-dir"));
        let out = cmd.output().expect("sam build runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{}:\n{text}", sam_build.join(" "));
        // This SAM CLI version builds rust-cargolambda without asking for
        // --beta-features (docs/deploy.md says so).
        assert!(
            !text.contains("beta"),
            "sam build mentions beta features:\n{text}"
        );
        eprintln!(
            "build times: `{}` {cargo_s:.1} s, then `{}` {:.1} s",
            cargo_lambda.join(" "),
            sam_build.join(" "),
            started.elapsed().as_secs_f64()
        );

        let function = read_built(&dir);
        let code_uri = function.resolved["Properties"]["CodeUri"].as_str().unwrap();
        let bootstrap = dir.join(code_uri).join("bootstrap");
        assert!(bootstrap.exists(), "{} is missing", bootstrap.display());
        Built {
            dir,
            bootstrap,
            function,
        }
    }
}

fn read_built(dir: &Path) -> template::Function {
    template::read_function(
        &tool("VENV_TEMPLATE", ".venv-template", "python"),
        &dir.join("template.yaml"),
    )
}

fn memory_mb(built: &Built) -> u32 {
    built.function.number("MemorySize") as u32
}

fn timeout(built: &Built) -> Duration {
    Duration::from_secs(built.function.number("Timeout"))
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    text[text.floor_char_boundary(start)..].to_string()
}

#[test]
fn the_built_function_is_the_templates() {
    let built = built();
    let props = &built.function.resolved["Properties"];
    let metadata = &built.function.resolved["Metadata"];
    // SAM's own build method ran with the template's Binary.
    assert_eq!(metadata["BuildMethod"], "rust-cargolambda");
    assert_eq!(metadata["BuildProperties"]["Binary"], release_build::BINARY);
    assert_eq!(props["Runtime"], "provided.al2023");
    assert_eq!(props["Handler"], "bootstrap");
    // The built template still takes the architecture from the parameter
    // (sam build does not write the override into it): `sam deploy` must get
    // the same Architecture as `sam build` did (docs/deploy.md).
    assert_eq!(
        built.function.raw["Properties"]["Architectures"],
        serde_json::json!([{"Ref": "Architecture"}])
    );

    // An x86-64 ELF executable (e_machine 62) that asks for no glibc newer
    // than provided.al2023's 2.34 (cargo lambda links with zig for that).
    let elf = std::fs::read(&built.bootstrap).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF", "bootstrap is not an ELF file");
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 62, "not x86-64");
    let newest = glibc_versions(&elf).into_iter().max().unwrap_or((0, 0));
    assert!(
        newest <= (2, 34),
        "bootstrap needs GLIBC_{}.{}, provided.al2023 has 2.34",
        newest.0,
        newest.1
    );
    eprintln!(
        "bootstrap: {:.1} MiB, newest glibc symbol version {}.{}",
        elf.len() as f64 / (1 << 20) as f64,
        newest.0,
        newest.1
    );
}

/// The `GLIBC_2.N[.M]` version names in a binary's dynamic symbol versions.
fn glibc_versions(elf: &[u8]) -> Vec<(u32, u32)> {
    let needle = b"GLIBC_2.";
    let mut out = Vec::new();
    for (i, w) in elf.windows(needle.len()).enumerate() {
        if w != needle {
            continue;
        }
        let digits: String = elf[i + needle.len()..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        if let Ok(minor) = digits.parse() {
            out.push((2, minor));
        }
    }
    out
}

#[test]
fn the_built_template_passes_cfn_lint() {
    let built = built();
    let out = Command::new(tool("VENV_TEMPLATE", ".venv-template", "cfn-lint"))
        .arg(built.dir.join("template.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint on the built template:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_built_bootstrap_answers_every_fixture_with_its_golden_response() {
    let built = built();
    let mut api = RuntimeApi::start();
    let log = built.dir.join("fixtures-function.log");
    let mut function = common::KillOnDrop(spawn_function(
        &built.bootstrap,
        &api,
        memory_mb(built),
        &built.function.env,
        &log,
    ));
    let mut alive = || function.0.try_wait().unwrap().is_none();

    // The goldens are made with no variable set (Config::default(),
    // fixtures/README.md). The template's defaults differ from that only in
    // MASK_PAN=true (with its MASK_PAN_KEEP), no fixture holds a card number,
    // and EXCLUDE_LOG_GROUPS names only the stack's own log groups, which no
    // fixture's records come from: so the goldens are the deployed function's
    // answers too.
    let deployed = Settings::from_lookup(|k| {
        built
            .function
            .env
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    assert!(deployed.core.lines.mask.is_some(), "MASK_PAN is on");
    let mut unmasked = deployed.clone();
    unmasked.core.lines.mask = None;
    let exclude = unmasked.core.exclude.to_string();
    assert!(
        exclude.contains("-transform") && exclude.contains("/aws/kinesisfirehose/"),
        "{exclude}"
    );
    unmasked.core.exclude = cwl_firehose::ExcludeList::none();
    assert_eq!(
        unmasked,
        Settings::default(),
        "the template's other defaults"
    );

    for name in fixture_names() {
        let event = fixture(&format!("events/{name}.json"));
        let answer = api
            .invoke(event.clone(), timeout(built), &mut alive)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", log_tail(&log)));
        let Outcome::Response(response) = answer.outcome else {
            panic!("{name}: the invocation failed: {:?}", answer.outcome);
        };
        let expected = fixture(&format!("expected/{name}.response.json"));
        // The same comparison as tests/golden.rs: byte for byte.
        assert!(
            response == expected,
            "{name}: the built function's response differs from fixtures/expected/{name}.response.json:\n{}",
            String::from_utf8_lossy(&response)
        );
        check_contract(&event, &response);
    }

    // An event that is not a Firehose event fails its invocation through the
    // Runtime API's error path, and the process keeps serving.
    let answer = api
        .invoke(br#"{"hello":"world"}"#.to_vec(), timeout(built), &mut alive)
        .unwrap();
    match &answer.outcome {
        Outcome::Error { body, .. } => {
            let body = String::from_utf8_lossy(body);
            assert!(
                body.contains("not a Firehose transformation event"),
                "{body}"
            );
        }
        other => panic!("a non-Firehose event must fail the invocation: {other:?}"),
    }
    let answer = api
        .invoke(
            fixture("events/data-message.json"),
            timeout(built),
            &mut alive,
        )
        .unwrap();
    assert_eq!(
        answer.outcome,
        Outcome::Response(fixture("expected/data-message.response.json"))
    );
    assert_eq!(api.init_error(), None);
}

#[test]
fn a_malformed_setting_stops_the_function_before_its_first_event() {
    // Lambda reports a process that exits during init as Runtime.ExitError;
    // the function must not start serving with a setting it cannot read.
    let built = built();
    let api = RuntimeApi::start();
    let mut env = built.function.env.clone();
    env.retain(|(k, _)| k != "INFLATE_CAP");
    env.push(("INFLATE_CAP".to_string(), "lots".to_string()));
    let log = built.dir.join("init-function.log");
    let mut function = common::KillOnDrop(spawn_function(
        &built.bootstrap,
        &api,
        memory_mb(built),
        &env,
        &log,
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = function.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the function kept running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    assert_eq!(api.next_polls(), 0, "it asked for an event");
    assert!(log_tail(&log).contains("INFLATE_CAP"), "{}", log_tail(&log));
}
