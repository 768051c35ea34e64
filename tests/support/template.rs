//! The transformation function as a SAM template declares it, read with
//! PyYAML (the template venv's Python; the CloudFormation short forms `!Ref`,
//! `!If` become the one-key maps of the long forms), its parameter `Ref`s
//! resolved to the parameters' defaults: what a stack deployed with no
//! parameter overrides would run.
// Shared by two test crates; each uses a part.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

pub struct Function {
    /// The `LogsProcessorFunction` resource as written.
    pub raw: Value,
    /// The same with parameter `Ref`s replaced by the defaults (as strings).
    pub resolved: Value,
    /// Its `Environment.Variables`, resolved.
    pub env: Vec<(String, String)>,
}

impl Function {
    /// A resolved property as a number (`MemorySize`, `Timeout`).
    pub fn number(&self, property: &str) -> u64 {
        let value = &self.resolved["Properties"][property];
        value
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{property} is not a number: {value}"))
    }
}

pub fn read_function(python: &Path, template: &Path) -> Function {
    // The template tests' own evaluator (tests/template/test_template.py: conditions,
    // Fn::If/Sub/Join/Select/Split, pseudo parameters, resource names) gives the values a
    // stack deployed with the defaults would have.
    const READ: &str = r#"
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
sys.dont_write_bytecode = True
import test_template as t

tpl = t.load_template(Path(sys.argv[1]))
s = t.Scenario(tpl=tpl)
function = s.resources["LogsProcessorFunction"]
env = function["Properties"]["Environment"]["Variables"]

def resolve(v):
    if isinstance(v, dict) and list(v) == ["Ref"] and v["Ref"] in tpl["Parameters"]:
        return str(s.params[v["Ref"]])
    if isinstance(v, list):
        return [resolve(x) for x in v]
    if isinstance(v, dict):
        return {k: resolve(x) for k, x in v.items()}
    return v if isinstance(v, str) else json.dumps(v)

def value(v):
    r = s.eval(v)
    return r if isinstance(r, str) else json.dumps(r)

print(json.dumps({"raw": tpl["Resources"]["LogsProcessorFunction"], "resolved": resolve(function),
                  "env": {k: value(v) for k, v in env.items()}}))
"#;
    let out = Command::new(python)
        .args(["-c", READ])
        .arg(template)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/template"))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        out.status.success(),
        "reading {}: {}",
        template.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = v["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    Function {
        raw: v["raw"].clone(),
        resolved: v["resolved"].clone(),
        env,
    }
}
