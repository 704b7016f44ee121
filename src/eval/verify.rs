//! What the compiler guarantees of every rule pack it writes, checked again
//! when a pack is loaded, so that a pack edited by hand (and used with
//! `--allow-modified`) or made by another tool cannot mislead:
//!
//! - each question has the shape of its kind (options only for one-of and
//!   scale questions, a minimum only for counts);
//! - every test compares a question with a value of its kind: `true` or
//!   `false` for yes/no, option ids for one-of and scale, whole numbers for
//!   counts, pounds with at most two decimal places for amounts (so too the
//!   items of an `in` list);
//! - a question is asked only depending on questions asked before it;
//! - factor lists do not include each other in a circle;
//! - every level has exactly one route for every setting that does not say
//!   it has none, and no route is for a setting that says it has none;
//! - no route goes round forever unless the pack records that its protocol
//!   accepts that loop (`accept route-cycle`).
//!
//! It runs after the engine has checked the references between elements and
//! read every condition, so every name here is known.

use std::collections::{BTreeMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde_json::{Number, Value};

use super::engine::LoadError;
use crate::emit::pack::{QuestionKind, RulePack};

/// The code the compiler reports a route loop with no way out under.
const ROUTE_CYCLE: &str = "carepath::route-cycle";

pub(super) fn check(pack: &RulePack) -> Result<(), LoadError> {
    questions(pack)?;
    conditions(pack)?;
    police(pack)?;
    includes(pack)?;
    routes(pack)?;
    Ok(())
}

/// Police responses: a judgement names who judges and nothing else does;
/// an element gives at most one response for every setting and one per
/// setting; every level has a response for every setting; a rule suggests
/// exactly when its strength is `may`.
fn police(pack: &RulePack) -> Result<(), LoadError> {
    use crate::emit::pack::{Effect, Response, Strength};
    let lists = pack
        .levels
        .iter()
        .map(|l| (format!("level `{}`", l.id), &l.police, true))
        .chain(
            pack.rules
                .iter()
                .map(|r| (format!("rule `{}`", r.id), &r.police, false)),
        )
        .chain(
            pack.procedures
                .iter()
                .map(|p| (format!("procedure `{}`", p.id), &p.police, false)),
        );
    for (at, list, complete) in lists {
        let mut defaults = 0;
        let mut named: Vec<&str> = Vec::new();
        for p in list {
            if (p.response == Response::Judgement) != p.by.is_some() {
                return refuse(format!(
                    "{at} has a police response `{}` {}; a judgement names who judges, and only a judgement does",
                    serde_json::to_value(p.response)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or_default(),
                    if p.by.is_some() {
                        "with `by`"
                    } else {
                        "without `by`"
                    }
                ));
            }
            if p.settings.is_empty() {
                defaults += 1;
            }
            for s in &p.settings {
                if named.contains(&s.as_str()) {
                    return refuse(format!("{at} has two police responses for setting `{s}`"));
                }
                named.push(s);
            }
        }
        if defaults > 1 {
            return refuse(format!("{at} has two police responses for every setting"));
        }
        if complete && defaults == 0 {
            let missing = pack
                .settings
                .iter()
                .find(|s| !named.contains(&s.id.as_str()));
            match missing {
                Some(s) => {
                    return refuse(format!(
                        "{at} has no police response for setting `{}`",
                        s.id
                    ));
                }
                None if pack.settings.is_empty() => {
                    return refuse(format!("{at} has no police response"));
                }
                None => {}
            }
        }
    }
    for r in &pack.rules {
        if (r.strength == Strength::May) != (r.effect == Effect::Suggests) {
            return refuse(format!(
                "rule `{}` has strength and effect that disagree: a `may` rule suggests, and only a `may` rule does",
                r.id
            ));
        }
    }
    Ok(())
}

fn refuse<T>(message: String) -> Result<T, LoadError> {
    Err(LoadError(message))
}

fn kind_word(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Setting => "setting",
        QuestionKind::YesNo => "yes/no",
        QuestionKind::OneOf => "one-of",
        QuestionKind::Scale => "scale",
        QuestionKind::Count => "count",
        QuestionKind::Amount => "amount",
    }
}

fn questions(pack: &RulePack) -> Result<(), LoadError> {
    // The setting is the first question exactly when there are settings,
    // and its options are the settings.
    let settings: Vec<&str> = pack.settings.iter().map(|s| s.id.as_str()).collect();
    for (i, q) in pack.questions.iter().enumerate() {
        if q.kind == QuestionKind::Setting {
            let options: Vec<&str> = q.options.iter().map(|o| o.id.as_str()).collect();
            if i != 0 || q.id != "setting" || options != settings || settings.is_empty() {
                return refuse(format!(
                    "question `{}` is the setting, but the setting question is the first, is                      called `setting`, and has the pack's settings as its options",
                    q.id
                ));
            }
            if q.asked_when.is_some() {
                return refuse(
                    "the setting question has an `asked_when`, but the setting is always known"
                        .into(),
                );
            }
        }
    }
    if !settings.is_empty()
        && pack
            .questions
            .first()
            .is_none_or(|q| q.kind != QuestionKind::Setting)
    {
        return refuse(
            "the pack has settings but no setting question; conditions test the setting as the first question, `setting`".into(),
        );
    }
    for q in &pack.questions {
        let kind = kind_word(q.kind);
        match q.kind {
            QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => {
                if q.options.is_empty() {
                    return refuse(format!(
                        "question `{}` is a {kind} question but has no options to answer with",
                        q.id
                    ));
                }
                for (i, o) in q.options.iter().enumerate() {
                    if q.options[..i].iter().any(|p| p.id == o.id) {
                        return refuse(format!(
                            "question `{}` lists option `{}` twice",
                            q.id, o.id
                        ));
                    }
                }
            }
            _ => {
                if !q.options.is_empty() {
                    return refuse(format!(
                        "question `{}` is a {kind} question but lists options; only one-of and \
                         scale questions are answered with an option",
                        q.id
                    ));
                }
            }
        }
        if q.minimum.is_some() && q.kind != QuestionKind::Count {
            return refuse(format!(
                "question `{}` is a {kind} question but has a `minimum`, which only counts have",
                q.id
            ));
        }
    }
    Ok(())
}

fn conditions(pack: &RulePack) -> Result<(), LoadError> {
    let index: BTreeMap<&str, usize> = pack
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.as_str(), i))
        .collect();
    let check = |c: &Value, at: &str, asked_before: Option<usize>| {
        condition(pack, &index, c, at, asked_before)
    };
    for (i, q) in pack.questions.iter().enumerate() {
        if let Some(c) = &q.asked_when {
            check(c, &format!("question `{}`, asked_when,", q.id), Some(i))?;
        }
    }
    for r in &pack.rules {
        check(&r.when, &format!("rule `{}`", r.id), None)?;
    }
    for p in &pack.procedures {
        check(&p.when, &format!("procedure `{}`", p.id), None)?;
    }
    for r in &pack.routes {
        for n in &r.nodes {
            let at = format!("route `{}`, step `{}`", r.id, n.id);
            let conds = n
                .only_when
                .iter()
                .chain(n.actions.iter().filter_map(|a| a.when.as_ref()))
                .chain(n.timing.iter().filter_map(|t| t.when.as_ref()))
                .chain(n.on.iter().filter_map(|o| o.when.as_ref()))
                .chain(n.always.iter().map(|a| &a.when));
            for c in conds {
                check(c, &at, None)?;
            }
        }
    }
    for f in &pack.accepted_findings {
        if let Some(c) = &f.applies_when {
            check(c, &format!("accepted finding \"{}\"", f.message), None)?;
        }
    }
    for f in &pack.factors {
        if let Some(c) = &f.applies_when {
            check(c, &format!("factor list `{}`", f.id), None)?;
        }
    }
    for l in &pack.levels {
        for e in &l.examples {
            if let Some(g) = &e.given {
                check(
                    g,
                    &format!("example \"{}\" of level `{}`", e.title, l.id),
                    None,
                )?;
            }
        }
    }
    Ok(())
}

/// Check every test of a condition (a walk with a stack of its own). With
/// `asked_before`, the condition may test only questions before that one.
fn condition(
    pack: &RulePack,
    index: &BTreeMap<&str, usize>,
    cond: &Value,
    at: &str,
    asked_before: Option<usize>,
) -> Result<(), LoadError> {
    let mut stack = vec![cond];
    while let Some(v) = stack.pop() {
        let Some((op, args)) = v.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let args: Vec<&Value> = match args {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if matches!(op.as_str(), "and" | "or" | "!") {
            stack.extend(args.into_iter().rev());
            continue;
        }
        let [var, value] = args[..] else { continue };
        let Some(q) = var
            .get("var")
            .and_then(Value::as_str)
            .and_then(|name| index.get(name).copied())
        else {
            continue;
        };
        if let Some(before) = asked_before
            && q >= before
        {
            let this = &pack.questions[before].id;
            let other = &pack.questions[q].id;
            return refuse(if q == before {
                format!("question `{this}` is asked only when it has itself been answered")
            } else {
                format!(
                    "question `{this}` is asked only depending on question `{other}`, which \
                         comes later; a question may depend only on questions asked before it"
                )
            });
        }
        test(&pack.questions[q], at, op, value)?;
    }
    Ok(())
}

/// A value as words: `true`, the number 3, the option `x`.
fn words(v: &Value) -> String {
    match v {
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the option `{s}`"),
        Value::Null => "`null`".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a condition".into(),
    }
}

fn test(
    q: &crate::emit::pack::Question,
    at: &str,
    op: &str,
    value: &Value,
) -> Result<(), LoadError> {
    // `!== null`: the question is asked. Fine for every kind.
    if value.is_null() {
        return Ok(());
    }
    let kind = kind_word(q.kind);
    let id = &q.id;
    let expects = match q.kind {
        QuestionKind::YesNo => "a yes/no question is tested with `true` or `false`".to_string(),
        QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => {
            let ids: Vec<String> = q
                .options
                .iter()
                .take(4)
                .map(|o| format!("`{}`", o.id))
                .collect();
            let more = if q.options.len() > 4 { ", ..." } else { "" };
            format!("its answers are options ({}{more})", ids.join(", "))
        }
        QuestionKind::Count => "its answers are whole numbers".to_string(),
        QuestionKind::Amount => "its answers are amounts of money in pounds and pence".to_string(),
    };
    let fits = |v: &Value| match q.kind {
        QuestionKind::YesNo => v.is_boolean(),
        QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => v.is_string(),
        QuestionKind::Count | QuestionKind::Amount => v.is_number(),
    };
    if op == "in" {
        if q.kind == QuestionKind::YesNo {
            return refuse(format!(
                "{at} tests yes/no question `{id}` against a list; {expects}"
            ));
        }
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if !fits(item) {
                return refuse(format!(
                    "{at} tests {kind} question `{id}` against a list holding {}; {expects}",
                    words(item)
                ));
            }
            if let Value::Number(n) = item {
                number(q, at, n)?;
            }
        }
        return Ok(());
    }
    if !fits(value) {
        return refuse(format!(
            "{at} compares {kind} question `{id}` with {}; {expects}",
            words(value)
        ));
    }
    if let Value::Number(n) = value {
        number(q, at, n)?;
    }
    Ok(())
}

/// A number a count or an amount is compared with.
fn number(q: &crate::emit::pack::Question, at: &str, n: &Number) -> Result<(), LoadError> {
    let id = &q.id;
    match q.kind {
        QuestionKind::Count if !whole(n) => refuse(format!(
            "{at} compares count question `{id}` with {n}, which is not a whole number; \
             a count is answered with a whole number"
        )),
        QuestionKind::Amount if decimals(n) > 2 => refuse(format!(
            "{at} compares amount question `{id}` with {n}, which has more than two decimal \
             places; amounts are in pounds and pence"
        )),
        _ => Ok(()),
    }
}

fn whole(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || decimals(n) == 0
}

/// Decimal places of a number as serde_json writes it (shortest form that
/// reads back the same), `1.25e-1` included.
fn decimals(n: &Number) -> usize {
    let text = n.to_string();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let fraction = mantissa
        .split_once('.')
        .map_or("", |(_, f)| f)
        .trim_end_matches('0');
    (fraction.len() as i64 - exponent).max(0) as usize
}

/// Factor lists that include each other in a circle.
fn includes(pack: &RulePack) -> Result<(), LoadError> {
    let index: BTreeMap<&str, usize> = pack
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect();
    let mut circle: Option<Vec<usize>> = None;
    crate::graph::circles(
        pack.factors.len(),
        |f| {
            pack.factors[f]
                .includes
                .iter()
                .filter_map(|i| index.get(i.as_str()).copied())
                .collect()
        },
        |path| {
            circle.get_or_insert_with(|| path.to_vec());
        },
    );
    if let Some(path) = circle {
        let names: Vec<String> = path
            .iter()
            .map(|x| format!("`{}`", pack.factors[*x].id))
            .collect();
        return refuse(format!(
            "factor lists include each other in a circle: {}",
            names.join(" includes ")
        ));
    }
    Ok(())
}

fn routes(pack: &RulePack) -> Result<(), LoadError> {
    for r in &pack.routes {
        for s in &r.settings {
            if let Some(setting) = pack.settings.iter().find(|x| &x.id == s)
                && setting.no_route.is_some()
            {
                return refuse(format!(
                    "route `{}` is for setting `{s}`, but that setting says it has no route",
                    r.id
                ));
            }
        }
        for (i, st) in r.starts.iter().enumerate() {
            if r.starts[..i]
                .iter()
                .any(|o| o.level == st.level && o.procedure == st.procedure && o.rule == st.rule)
            {
                let what = st
                    .level
                    .as_deref()
                    .or(st.procedure.as_deref())
                    .or(st.rule.as_deref())
                    .unwrap_or_default();
                return refuse(format!(
                    "route `{}` starts `{what}` twice; a level, rule or procedure enters a route at one place",
                    r.id
                ));
            }
        }
    }
    let entries = pack
        .levels
        .iter()
        .map(|l| ("level", &l.id, true))
        .chain(pack.procedures.iter().map(|p| ("procedure", &p.id, false)));
    let entries: Vec<(&str, &String, bool)> = entries.collect();
    for s in pack.settings.iter().filter(|s| s.no_route.is_none()) {
        for &(what, id, is_level) in &entries {
            let covering: Vec<&str> = pack
                .routes
                .iter()
                .filter(|r| {
                    r.settings.contains(&s.id)
                        && r.starts.iter().any(|st| {
                            if is_level {
                                st.level.as_ref() == Some(id)
                            } else {
                                st.procedure.as_ref() == Some(id)
                            }
                        })
                })
                .map(|r| r.id.as_str())
                .collect();
            match covering.as_slice() {
                [] => {
                    return refuse(format!(
                        "{what} `{id}` has no route for setting `{}`: no route for that setting \
                         starts there, and the setting does not say it has no route, so \
                         nothing would say what staff do",
                        s.id
                    ));
                }
                [_] => {}
                [first, second, ..] => {
                    return refuse(format!(
                        "{what} `{id}` has two routes for setting `{}`: `{first}` and `{second}`",
                        s.id
                    ));
                }
            }
        }
    }
    for r in &pack.routes {
        route_cycles(pack, r)?;
    }
    Ok(())
}

/// A loop of a route with no way out, reached from a start, that the pack
/// does not record as accepted.
fn route_cycles(pack: &RulePack, route: &crate::emit::pack::Route) -> Result<(), LoadError> {
    let position: BTreeMap<&str, usize> = route
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut g: DiGraph<usize, usize> = DiGraph::new();
    let ids: Vec<NodeIndex> = (0..route.nodes.len()).map(|i| g.add_node(i)).collect();
    for (i, n) in route.nodes.iter().enumerate() {
        if let Some(t) = n.next.as_deref().and_then(|t| position.get(t)) {
            g.add_edge(ids[i], ids[*t], 0);
        }
        for (k, b) in n.branches.iter().enumerate() {
            if let Some(t) = position.get(b.to.as_str()) {
                g.add_edge(ids[i], ids[*t], k);
            }
        }
    }
    let mut reached = vec![false; route.nodes.len()];
    let mut queue: VecDeque<usize> = route
        .starts
        .iter()
        .filter_map(|s| position.get(s.node.as_str()).copied())
        .collect();
    while let Some(n) = queue.pop_front() {
        if std::mem::replace(&mut reached[n], true) {
            continue;
        }
        queue.extend(g.edges(ids[n]).map(|e| g[e.target()]));
    }
    for scc in tarjan_scc(&g) {
        let looped = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
        if !looped || !reached[g[scc[0]]] {
            continue;
        }
        if scc
            .iter()
            .any(|n| g.edges(*n).any(|e| !scc.contains(&e.target())))
        {
            continue;
        }
        let in_loop = |id: &str| scc.iter().any(|n| route.nodes[g[*n]].id == id);
        let accepted = pack.accepted_findings.iter().any(|f| {
            f.code == ROUTE_CYCLE
                && f.subject.first() == Some(&route.id)
                && f.subject.get(1).is_some_and(|n| in_loop(n))
        });
        if accepted {
            continue;
        }
        let start = *scc.iter().min_by_key(|n| g[**n]).expect("non-empty");
        let way: Vec<&str> = crate::graph::cycle_from(&g, &scc, start)
            .map(|(path, _)| {
                path.iter()
                    .map(|n| route.nodes[g[*n]].id.as_str())
                    .collect()
            })
            .unwrap_or_default();
        return refuse(format!(
            "route `{}` can go round forever, with no way out to an outcome: {}; the pack does \
             not record that its protocol accepts this loop (`accept route-cycle {}, {}`)",
            route.id,
            way.join(" → "),
            route.id,
            route.nodes[g[start]].id
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_places_of_numbers_as_written() {
        let places = |text: &str| decimals(&serde_json::from_str::<Number>(text).expect("number"));
        assert_eq!(places("3"), 0);
        assert_eq!(places("3.0"), 0);
        assert_eq!(places("12.5"), 1);
        assert_eq!(places("0.29"), 2);
        assert_eq!(places("10.005"), 3);
        assert_eq!(places("1.25e-1"), 3);
        assert_eq!(places("1e-7"), 7);
        assert_eq!(places("1.5e3"), 0);
        let whole_text = |text: &str| whole(&serde_json::from_str::<Number>(text).expect("number"));
        assert!(whole_text("3") && whole_text("3.0") && whole_text("-2"));
        assert!(!whole_text("2.5"));
    }
}
