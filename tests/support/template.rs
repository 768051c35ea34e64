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
    const READ: &str = r#"
import json, sys, yaml

class Loader(yaml.SafeLoader):
    pass

def short_form(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return {("Ref" if suffix == "Ref" else "Fn::" + suffix): value}

Loader.add_multi_constructor("!", short_form)
template = yaml.load(open(sys.argv[1]), Loader)
params = template["Parameters"]

def resolve(v):
    if isinstance(v, dict) and list(v) == ["Ref"] and v["Ref"] in params:
        return resolve(params[v["Ref"]]["Default"])
    if isinstance(v, list):
        return [resolve(x) for x in v]
    if isinstance(v, dict):
        return {k: resolve(x) for k, x in v.items()}
    return v if isinstance(v, str) else json.dumps(v)

function = template["Resources"]["LogsProcessorFunction"]
env = function["Properties"]["Environment"]["Variables"]
print(json.dumps({"raw": function, "resolved": resolve(function),
                  "env": {k: resolve(v) for k, v in env.items()}}))
"#;
    let out = Command::new(python)
        .args(["-c", READ])
        .arg(template)
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
