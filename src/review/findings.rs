//! The findings of two versions compared: which gaps, conflicts, rules that
//! never decide, misclassified examples, route faults and other warnings a
//! revision brings in, which it resolves, and which it accepts or stops
//! accepting.
//!
//! A rule pack records only the findings its protocol accepts, so findings
//! are compared only when both sides were checked from their protocol (the
//! caller passes what each check found, [`of_diagnostics`]). A finding is
//! matched by its code, the rules it is about and its subject (a level, an
//! example, a route and its step), read through the revision's renames:
//! its message and witness may change with any edit, and what it is about
//! may not.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, Severity};

/// A finding of one version, as its check reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// `carepath::gap`, `carepath::never-decides`, ...
    pub code: String,
    /// `error` or `warning` (an error the protocol accepts is still an
    /// error, accepted).
    pub severity: String,
    pub message: String,
    /// The ids of the rules (or route steps) it is about.
    pub rules: Vec<String>,
    /// What else it is about: a level, an example's title, a route and its
    /// step.
    pub subject: Vec<String>,
    /// Why the protocol accepts it, when it does.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub accepted: Option<String>,
    /// An incident that shows it: answers by question id, `"any"` where the
    /// answer does not matter.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub witness: Option<Map<String, Value>>,
}

/// What the findings of two versions have and do not have in common.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    /// Why findings were not compared, when they were not (a side is a
    /// rule pack, which records only its accepted findings); the lists are
    /// then empty.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_compared: Option<String>,
    /// Findings only the new version has: what the revision brings in.
    pub new: Vec<Finding>,
    /// Findings only the old version has: what the revision resolves (or,
    /// between authorities, what only the old side has).
    pub gone: Vec<Finding>,
    /// Findings of both whose acceptance changed: accepted by one version
    /// and not the other, or for another reason.
    pub acceptance_changed: Vec<AcceptanceChange>,
    /// How many findings both versions have, accepted alike.
    pub kept: usize,
}

/// One finding's acceptance on each side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceChange {
    pub old: Finding,
    pub new: Finding,
}

impl Findings {
    pub(crate) fn not_compared(reason: &str) -> Findings {
        Findings {
            not_compared: Some(reason.to_string()),
            ..Findings::default()
        }
    }

    /// Whether the findings differ between the versions.
    pub fn differ(&self) -> bool {
        !self.new.is_empty() || !self.gone.is_empty() || !self.acceptance_changed.is_empty()
    }
}

/// The findings among a check's diagnostics: warnings, and errors the
/// protocol accepts (a protocol with an error it does not accept has no
/// rule pack, and is not compared).
pub fn of_diagnostics(diagnostics: &[Diagnostic]) -> Vec<Finding> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning || d.is_accepted())
        .map(|d| {
            let data = d.finding.as_deref();
            Finding {
                code: d.code.to_string(),
                severity: d.severity.to_string(),
                message: d.message.clone(),
                rules: data.map(|f| f.rules.clone()).unwrap_or_default(),
                subject: data.map(|f| f.subject.clone()).unwrap_or_default(),
                accepted: data.and_then(|f| f.accepted.clone()),
                witness: data
                    .and_then(|f| f.witness.as_ref())
                    .map(|w| w.entries().into_iter().collect::<Map<String, Value>>()),
            }
        })
        .collect()
}

/// What a finding is about, read in the new version's ids: findings with
/// the same key are the same finding, whatever else changed in them (its
/// message, its witness; the rules that overrule a rule that never
/// decides, or that misplace an example). A finding about nothing in
/// particular (an unused question, say) is told by its message.
type Key = (String, Vec<String>, Vec<String>, Option<String>);

fn key(f: &Finding, rename: &dyn Fn(&str) -> String) -> Key {
    let rules: Vec<String> = match f.code.as_str() {
        // The rule that never decides, not those that overrule it.
        "carepath::never-decides" => f.rules.iter().take(1).map(|r| rename(r)).collect(),
        // The example, whichever rules misplace it.
        "carepath::misclassified-example" => Vec::new(),
        _ => {
            let mut r: Vec<String> = f.rules.iter().map(|r| rename(r)).collect();
            r.sort();
            r
        }
    };
    let subject: Vec<String> = f.subject.iter().map(|s| rename(s)).collect();
    let about = f.rules.is_empty() && f.subject.is_empty() && f.code != "carepath::gap";
    (
        f.code.clone(),
        rules,
        subject,
        about.then(|| f.message.clone()),
    )
}

/// Compare the old version's findings with the new one's; `rename` reads
/// an old id (a rule, a level, a route step) by its new name.
pub fn compare(old: &[Finding], new: &[Finding], rename: &dyn Fn(&str) -> String) -> Findings {
    let same = |s: &str| s.to_string();
    // The old findings by what they are about, in order: several alike (a
    // protocol's accepted gaps, one per `accept`) are paired in turn.
    let mut pending: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    for f in old {
        pending.entry(key(f, rename)).or_default().push(f);
    }
    let mut out = Findings::default();
    let mut unmatched_new: Vec<&Finding> = Vec::new();
    // Pair those accepted alike first, so that a second accepted gap is not
    // taken for the first one's acceptance changing.
    for f in new {
        let k = key(f, &same);
        let slot = pending.get_mut(&k);
        match slot.and_then(|list| {
            let i = list.iter().position(|o| o.accepted == f.accepted)?;
            Some(list.remove(i))
        }) {
            Some(_) => out.kept += 1,
            None => unmatched_new.push(f),
        }
    }
    for f in unmatched_new {
        match pending.get_mut(&key(f, &same)) {
            Some(list) if !list.is_empty() => {
                let o = list.remove(0);
                out.acceptance_changed.push(AcceptanceChange {
                    old: o.clone(),
                    new: f.clone(),
                });
            }
            _ => out.new.push(f.clone()),
        }
    }
    // What is left of the old findings, in the old version's order.
    for f in old {
        let k = key(f, rename);
        if let Some(list) = pending.get_mut(&k)
            && let Some(i) = list.iter().position(|o| std::ptr::eq(*o, f))
        {
            list.remove(i);
            out.gone.push(f.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &str, rules: &[&str], accepted: Option<&str>) -> Finding {
        Finding {
            code: format!("carepath::{code}"),
            severity: "warning".to_string(),
            message: format!("{code} of {rules:?}"),
            rules: rules.iter().map(|r| r.to_string()).collect(),
            subject: Vec::new(),
            accepted: accepted.map(str::to_owned),
            witness: None,
        }
    }

    #[test]
    fn findings_are_matched_by_what_they_are_about_through_renames() {
        let old = vec![
            finding("never-decides", &["a"], None),
            finding("gap", &[], Some("the document is silent")),
            finding("gap", &[], None),
            finding("never-decides", &["b"], None),
        ];
        let new = vec![
            // `a` renamed `a2`: the same finding.
            finding("never-decides", &["a2"], None),
            // The unaccepted gap is now accepted too: two accepted gaps,
            // one kept and one whose acceptance changed.
            finding("gap", &[], Some("the document is silent")),
            finding("gap", &[], Some("left to the manager")),
            finding("conflict", &["c", "d"], None),
        ];
        let rename = |s: &str| {
            if s == "a" {
                "a2".to_string()
            } else {
                s.to_string()
            }
        };
        let f = compare(&old, &new, &rename);
        assert_eq!(f.kept, 2);
        assert_eq!(f.new, vec![new[3].clone()]);
        assert_eq!(f.gone, vec![old[3].clone()]);
        assert_eq!(
            f.acceptance_changed,
            vec![AcceptanceChange {
                old: old[2].clone(),
                new: new[2].clone()
            }]
        );
        assert!(f.differ());
        let same = compare(&old, &old, &|s: &str| s.to_string());
        assert_eq!((same.kept, same.differ()), (4, false));
    }
}
