//! A plain-text dump of a model, for review and snapshots, and the printing
//! of conditions and answers back in the language's own syntax (used by
//! messages in every later stage).

use std::fmt::Write;

use crate::model::types::*;

/// An amount in hundredths as written: `500`, `500.50`.
pub fn amount(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let h = hundredths.unsigned_abs();
    if h.is_multiple_of(100) {
        format!("{sign}{}", h / 100)
    } else {
        format!("{sign}{}.{:02}", h / 100, h % 100)
    }
}

/// A number for question `q`: amounts in pounds and pence, counts as is.
pub fn number(model: &Model, q: QuestionId, n: i64) -> String {
    match model.question(q).kind {
        QuestionKind::Amount { .. } => amount(n),
        _ => n.to_string(),
    }
}

/// An answer as written in the language: `yes`, `class-a`, `3`, `250.50`.
pub fn answer(model: &Model, q: QuestionId, a: Answer) -> String {
    match a {
        Answer::Bool(true) => "yes".into(),
        Answer::Bool(false) => "no".into(),
        Answer::Option(i) => model
            .question(q)
            .kind
            .choices()
            .get(i as usize)
            .map(|c| c.id.clone())
            .unwrap_or_else(|| format!("#{i}")),
        Answer::Number(n) => number(model, q, n),
    }
}

/// One test, as the source would write it.
pub fn atom(model: &Model, a: &Atom) -> String {
    let q = model.question(a.question);
    let id = &q.meta.id;
    match &a.test {
        Test::Bool(true) => id.clone(),
        Test::Bool(false) => format!("{id} == no"),
        Test::Options(set) => {
            let choices = q.kind.choices();
            let n = choices.len() as u32;
            let name = |i: u32| choices[i as usize].id.clone();
            let is_scale = matches!(q.kind, QuestionKind::Scale(_));
            match set.as_slice() {
                [one] => format!("{id} == {}", name(*one)),
                _ if set.len() as u32 == n.saturating_sub(1) && !is_scale => {
                    let missing = (0..n).find(|i| !set.contains(i)).unwrap_or(0);
                    format!("{id} != {}", name(missing))
                }
                [first, .., last]
                    if is_scale && *last == n - 1 && (*last - *first + 1) as usize == set.len() =>
                {
                    format!("{id} >= {}", name(*first))
                }
                [first, .., last]
                    if is_scale && *first == 0 && (*last + 1) as usize == set.len() =>
                {
                    format!("{id} <= {}", name(*last))
                }
                _ => format!(
                    "{id} in {{{}}}",
                    set.iter().map(|i| name(*i)).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        Test::Compare(op, c) => format!("{id} {} {}", op.symbol(), number(model, a.question, *c)),
        Test::Within { values, negated } => format!(
            "{id} {}in {{{}}}",
            if *negated { "not " } else { "" },
            values
                .iter()
                .map(|v| number(model, a.question, *v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A condition, as the source would write it.
pub fn condition(model: &Model, c: &Cond) -> String {
    fn go(model: &Model, c: &Cond, out: &mut String, parent: u8) {
        // Precedence: or 1, and 2, not 3.
        match c {
            Cond::Atom(a) => out.push_str(&atom(model, a)),
            Cond::Not(inner) => {
                out.push_str("not ");
                go(model, inner, out, 3);
            }
            Cond::And(cs) | Cond::Or(cs) => {
                let (prec, word) = if matches!(c, Cond::And(_)) {
                    (2, " and ")
                } else {
                    (1, " or ")
                };
                let paren = parent > prec;
                if paren {
                    out.push('(');
                }
                for (i, x) in cs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(word);
                    }
                    go(model, x, out, prec + 1);
                }
                if paren {
                    out.push(')');
                }
            }
        }
    }
    let mut out = String::new();
    go(model, c, &mut out, 0);
    out
}

fn cites(model: &Model, cs: &[Citation]) -> String {
    if cs.is_empty() {
        String::new()
    } else {
        format!(" [{}]", model.cite_text(cs))
    }
}

fn notes(out: &mut String, indent: &str, ns: &[String]) {
    for n in ns {
        let _ = writeln!(out, "{indent}note: {n}");
    }
}

fn names<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(", ")
}

/// The whole model as indented text: every element with its id, its
/// properties, citations in brackets and notes.
pub fn dump(model: &Model) -> String {
    let mut o = String::new();
    let h = &model.header;
    let kind = match h.kind {
        HeaderKind::Protocol => "protocol",
        HeaderKind::Library => "library",
    };
    let _ = writeln!(
        o,
        "{kind} {} \"{}\"{}",
        h.id,
        h.title.value,
        cites(model, &h.title.cites)
    );
    for a in &h.authorities {
        let _ = writeln!(o, "  authority \"{}\"{}", a.value, cites(model, &a.cites));
    }
    for p in &h.partners {
        let _ = writeln!(o, "  partner \"{}\"{}", p.value, cites(model, &p.cites));
    }
    if let Some(v) = &h.version {
        let _ = writeln!(o, "  version \"{}\"{}", v.value, cites(model, &v.cites));
    }
    if let Some(d) = &h.effective {
        let _ = writeln!(o, "  effective {}{}", d.value, cites(model, &d.cites));
    }
    if let Some(d) = &h.review {
        let _ = writeln!(o, "  review {}{}", d.value, cites(model, &d.cites));
    }
    if let Some(s) = &h.source {
        let _ = writeln!(o, "  source \"{}\"{}", s.value, cites(model, &s.cites));
    }
    if model.is_protocol() {
        let p = match h.policy.value {
            Policy::MostSerious => "most-serious",
            Policy::FirstMatch => "first-match",
            Policy::NoOverlap => "no-overlap",
        };
        let _ = writeln!(o, "  policy {p}{}", cites(model, &h.policy.cites));
    }
    if let Some(l) = &h.otherwise {
        let _ = writeln!(
            o,
            "  otherwise {}{}",
            model.level(l.value).meta.id,
            cites(model, &l.cites)
        );
    }
    notes(&mut o, "  ", &h.notes);

    let _ = writeln!(o, "documents");
    for (i, d) in model.documents.iter().enumerate() {
        let src = d
            .source
            .as_deref()
            .map(|s| format!(" source \"{s}\""))
            .unwrap_or_default();
        let _ = writeln!(o, "  {i} {} \"{}\"{src}", d.id, d.title);
    }

    let _ = writeln!(o, "settings");
    for s in &model.settings {
        let _ = writeln!(
            o,
            "  {} \"{}\"{}",
            s.meta.id,
            s.title,
            cites(model, &s.meta.cites)
        );
        if let Some(why) = &s.no_route {
            let _ = writeln!(o, "    no route: {why}");
        }
        notes(&mut o, "    ", &s.meta.notes);
    }

    let _ = writeln!(o, "questions");
    for q in model.questions.iter().filter(|q| !q.is_setting) {
        let kind = match &q.kind {
            QuestionKind::YesNo => "yes or no".to_string(),
            QuestionKind::OneOf(c) => format!("one of {{{}}}", names(c, |c| c.id.clone())),
            QuestionKind::Scale(c) => format!(
                "scale {{{}}}",
                c.iter()
                    .map(|c| c.id.clone())
                    .collect::<Vec<_>>()
                    .join(" < ")
            ),
            QuestionKind::Count { from } => format!("count from {from}"),
            QuestionKind::Amount { unit } => match unit {
                Some(u) => format!("amount \"{u}\""),
                None => "amount".to_string(),
            },
        };
        let _ = writeln!(
            o,
            "  {} \"{}\" {kind}{}",
            q.meta.id,
            q.text,
            cites(model, &q.meta.cites)
        );
        if let Some(c) = &q.asked_when {
            let _ = writeln!(o, "    asked when {}", condition(model, c));
        }
        notes(&mut o, "    ", &q.meta.notes);
    }

    let order: Vec<&str> = model
        .header
        .ask_order
        .iter()
        .map(|q| model.question(*q).meta.id.as_str())
        .collect();
    if !order.is_empty() {
        let _ = writeln!(o, "asked in the order {}", order.join(", "));
    }

    let _ = writeln!(o, "levels (least serious first)");
    for l in &model.levels {
        let police = police(model, &l.police);
        let _ = writeln!(
            o,
            "  {} \"{}\" {police}{}",
            l.meta.id,
            l.title,
            cites(model, &l.meta.cites)
        );
        if let Some(m) = &l.meaning {
            let _ = writeln!(o, "    meaning: {m}");
        }
        notes(&mut o, "    ", &l.meta.notes);
        for e in &l.examples {
            let _ = writeln!(o, "    example \"{}\"{}", e.title, cites(model, &e.cites));
            if let Some(g) = &e.given {
                let parts: Vec<String> = g.iter().map(|a| atom(model, a)).collect();
                let _ = writeln!(o, "      given {}", parts.join(" and "));
            }
            notes(&mut o, "      ", &e.notes);
        }
    }

    let _ = writeln!(o, "rules");
    for r in &model.rules {
        let strength = match r.strength {
            Strength::Must => "must",
            Strength::Should => "should",
            Strength::May => "may",
        };
        let title = r
            .title
            .as_deref()
            .map(|t| format!(" \"{t}\""))
            .unwrap_or_default();
        let effect = if r.decides() { "->" } else { "suggests" };
        let _ = writeln!(
            o,
            "  {}{title} {effect} {} ({strength}){}",
            r.meta.id,
            model.level(r.level).meta.id,
            cites(model, &r.meta.cites)
        );
        let _ = writeln!(o, "    when {}", condition(model, &r.when));
        if !r.police.is_empty() {
            let _ = writeln!(o, "    {}", police(model, &r.police));
        }
        notes(&mut o, "    ", &r.meta.notes);
    }

    if !model.procedures.is_empty() {
        let _ = writeln!(o, "procedures");
    }
    for p in &model.procedures {
        let _ = writeln!(
            o,
            "  {} \"{}\"{}",
            p.meta.id,
            p.title,
            cites(model, &p.meta.cites)
        );
        let _ = writeln!(o, "    when {}", condition(model, &p.when));
        if !p.police.is_empty() {
            let _ = writeln!(o, "    {}", police(model, &p.police));
        }
        notes(&mut o, "    ", &p.meta.notes);
    }

    let _ = writeln!(o, "routes");
    for r in &model.routes {
        let settings = names(&r.settings, |s| model.settings[s.index()].meta.id.clone());
        let _ = writeln!(
            o,
            "  {} \"{}\" for {settings}{}",
            r.meta.id,
            r.title,
            cites(model, &r.meta.cites)
        );
        notes(&mut o, "    ", &r.meta.notes);
        for s in &r.starts {
            let _ = writeln!(
                o,
                "    start {} -> {}",
                model.entry_id(s.entry),
                r.nodes[s.node.index()].meta.id
            );
        }
        for n in &r.nodes {
            let c = cites(model, &n.meta.cites);
            if let Some(f) = n.fragment {
                let _ = writeln!(
                    o,
                    "    (from fragment {})",
                    model.fragments[f.index()].meta.id
                );
            }
            match &n.kind {
                NodeKind::Step(s) => {
                    let _ = writeln!(o, "    step {} \"{}\"{c}", n.meta.id, n.text);
                    if let Some(c) = &s.only_when {
                        let _ = writeln!(o, "      only when {}", condition(model, c));
                    }
                    for line in by(model, &s.by) {
                        let _ = writeln!(o, "      {line}");
                    }
                    for a in &s.actions {
                        let _ = writeln!(o, "      {}", action(model, a));
                    }
                    for t in &s.timing {
                        let _ = writeln!(o, "      timing {}", timing(model, t));
                    }
                    if !s.complete.is_empty() {
                        let _ = writeln!(
                            o,
                            "      complete {}",
                            names(&s.complete, |c| model.checklists[c.index()].meta.id.clone())
                        );
                    }
                    if let Some(next) = s.next {
                        let _ = writeln!(o, "      then {}", r.nodes[next.index()].meta.id);
                    }
                }
                NodeKind::Decision(d) => {
                    let _ = writeln!(o, "    decision {} \"{}\"{c}", n.meta.id, n.text);
                    for line in by(model, &d.by) {
                        let _ = writeln!(o, "      {line}");
                    }
                    match &d.on {
                        Some(DecideOn::Question(q)) => {
                            let _ = writeln!(o, "      on {}", model.question(*q).meta.id);
                        }
                        Some(DecideOn::Condition(c)) => {
                            let _ = writeln!(o, "      on {}", condition(model, c));
                        }
                        None => {}
                    }
                    for (a, c) in &d.always {
                        let _ = writeln!(
                            o,
                            "      always {} when {}",
                            d.answers[*a as usize].id,
                            condition(model, c)
                        );
                    }
                    if !d.weigh.is_empty() {
                        let _ = writeln!(
                            o,
                            "      weigh {}",
                            names(&d.weigh, |f| model.factors[f.index()].meta.id.clone())
                        );
                    }
                    for t in &d.timing {
                        let _ = writeln!(o, "      timing {}", timing(model, t));
                    }
                    let _ = writeln!(o, "      answers {}", names(&d.answers, |c| c.id.clone()));
                    for b in &d.branches {
                        let _ = writeln!(
                            o,
                            "      {} -> {}",
                            d.answers[b.answer as usize].id,
                            r.nodes[b.target.index()].meta.id
                        );
                    }
                }
                NodeKind::Outcome(out) => {
                    let _ = writeln!(o, "    outcome {} \"{}\"{c}", n.meta.id, n.text);
                    for line in by(model, &out.by) {
                        let _ = writeln!(o, "      {line}");
                    }
                }
            }
            notes(&mut o, "      ", &n.meta.notes);
        }
    }

    let _ = writeln!(o, "factors");
    for f in &model.factors {
        let _ = writeln!(
            o,
            "  {} \"{}\"{}",
            f.meta.id,
            f.title,
            cites(model, &f.meta.cites)
        );
        if let Some(c) = &f.applies_when {
            let _ = writeln!(o, "    applies when {}", condition(model, c));
        }
        if !f.includes.is_empty() {
            let _ = writeln!(
                o,
                "    include {}",
                names(&f.includes, |x| model.factors[x.index()].meta.id.clone())
            );
        }
        for i in &f.items {
            let _ = writeln!(o, "    - {i}");
        }
        notes(&mut o, "    ", &f.meta.notes);
    }

    let _ = writeln!(o, "checklists");
    for c in &model.checklists {
        let _ = writeln!(
            o,
            "  {} \"{}\"{}",
            c.meta.id,
            c.title,
            cites(model, &c.meta.cites)
        );
        if let Some(f) = c.follows {
            let _ = writeln!(o, "    follows {}", model.checklists[f.index()].meta.id);
        }
        notes(&mut o, "    ", &c.meta.notes);
        for (n, i) in c.items.iter().enumerate() {
            let by = if i.by.is_empty() {
                String::new()
            } else {
                format!(
                    " by {}",
                    names(&i.by, |a| model.actors[a.index()].meta.id.clone())
                )
            };
            let _ = writeln!(
                o,
                "    {}. {} \"{}\"{by}{}",
                n + 1,
                i.meta.id,
                i.text,
                cites(model, &i.meta.cites)
            );
            if let Some(d) = &i.detail {
                let _ = writeln!(o, "      detail: {d}");
            }
            notes(&mut o, "      ", &i.meta.notes);
        }
    }

    let _ = writeln!(o, "actors");
    for a in &model.actors {
        let _ = writeln!(
            o,
            "  {} \"{}\"{}",
            a.meta.id,
            a.title,
            cites(model, &a.meta.cites)
        );
        notes(&mut o, "    ", &a.meta.notes);
    }

    let _ = writeln!(o, "contacts");
    for c in &model.contacts {
        let mut how = Vec::new();
        if let Some(p) = &c.phone {
            how.push(format!("phone {p}"));
        }
        if let Some(w) = &c.web {
            how.push(format!("web {w}"));
        }
        if let Some(e) = &c.email {
            how.push(format!("email {e}"));
        }
        let _ = writeln!(
            o,
            "  {} \"{}\" {}{}",
            c.meta.id,
            c.title,
            how.join(", "),
            cites(model, &c.meta.cites)
        );
        notes(&mut o, "    ", &c.meta.notes);
    }

    if !model.accepts.is_empty() {
        let _ = writeln!(o, "accepted findings");
        for a in &model.accepts {
            let mut subject = Vec::new();
            if let Some(c) = &a.when {
                subject.push(format!("when {}", condition(model, c)));
            }
            if !a.names.is_empty() {
                subject.push(
                    a.names
                        .iter()
                        .map(|(n, _)| n.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            if let Some(e) = &a.example {
                subject.push(format!("\"{e}\""));
            }
            let _ = writeln!(
                o,
                "  {} {}{}",
                a.code,
                subject.join(" "),
                cites(model, &a.cites)
            );
            let _ = writeln!(o, "    because: {}", a.reason);
        }
    }
    o
}

/// `by` lines as written: the actors of each set of settings.
pub fn by(model: &Model, list: &[ByActor]) -> Vec<String> {
    let mut groups: Vec<(&[SettingId], Vec<&str>)> = Vec::new();
    for b in list {
        let actor = model.actors[b.actor.index()].meta.id.as_str();
        match groups.iter_mut().find(|(s, _)| *s == b.settings.as_slice()) {
            Some((_, actors)) => actors.push(actor),
            None => groups.push((&b.settings, vec![actor])),
        }
    }
    groups
        .into_iter()
        .map(|(settings, actors)| {
            let mut line = format!("by {}", actors.join(", "));
            if !settings.is_empty() {
                let names: Vec<&str> = settings
                    .iter()
                    .map(|s| model.settings[s.index()].meta.id.as_str())
                    .collect();
                line.push_str(&format!(" for {}", names.join(", ")));
            }
            line
        })
        .collect()
}

/// An action as written: `consult police-liaison if in doubt`.
pub fn action(model: &Model, a: &Action) -> String {
    let id = |c: &ContactRef| match c {
        ContactRef::Contact(c) => model.contacts[c.index()].meta.id.clone(),
        ContactRef::Actor(a) => model.actors[a.index()].meta.id.clone(),
    };
    let targets: Vec<String> = a
        .targets
        .iter()
        .map(|chain| chain.iter().map(id).collect::<Vec<_>>().join(" else "))
        .collect();
    let mut line = format!("{} {}", a.kind.keyword(), targets.join(", "));
    if a.in_doubt {
        line.push_str(" if in doubt");
    }
    if let Some(c) = &a.when {
        line.push_str(&format!(" when {}", condition(model, c)));
    }
    line
}

/// A timing as written: `within 24 hours when drugs == use`.
pub fn timing(model: &Model, t: &CondTiming) -> String {
    let mut s = t.timing.to_string();
    if let Some(c) = &t.when {
        s.push_str(&format!(" when {}", condition(model, c)));
    }
    if let Some(q) = &t.qualifier {
        s.push_str(&format!(" if \"{q}\""));
    }
    s
}

/// Police responses as written: `police report; police emergency for foster`.
fn police(model: &Model, list: &[Police]) -> String {
    list.iter()
        .map(|p| {
            let mut s = format!("police {}", p.response.keyword());
            if let Some(by) = p.by {
                s.push_str(&format!(" by {}", model.actors[by.index()].meta.id));
            }
            if !p.settings.is_empty() {
                let names: Vec<&str> = p
                    .settings
                    .iter()
                    .map(|s| model.settings[s.index()].meta.id.as_str())
                    .collect();
                s.push_str(&format!(" for {}", names.join(", ")));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::amount;

    #[test]
    fn amounts_print_as_pounds_and_pence() {
        assert_eq!(amount(50050), "500.50");
        assert_eq!(amount(50000), "500");
        assert_eq!(amount(5), "0.05");
    }
}
