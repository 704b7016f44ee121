// The handbook page's script: the search box, printing with every note
// open, and the "try an incident" panel. Everything it shows comes from the
// rule pack embedded in #pack and is put in the page as text (textContent),
// never as markup.
(function () {
  "use strict";

  var pack = JSON.parse(document.getElementById("pack").textContent);
  var words = JSON.parse(document.getElementById("words").textContent);

  // ---- search -----------------------------------------------------------
  var search = document.getElementById("search");
  var status = document.getElementById("search-status");
  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    var sections = document.querySelectorAll("main > section.sect");
    Array.prototype.forEach.call(sections, function (sect) {
      var heading = sect.querySelector("h2").textContent.toLowerCase();
      var items = sect.querySelectorAll(".item");
      var any = false;
      Array.prototype.forEach.call(items, function (item) {
        var text = item.textContent.toLowerCase();
        var hit = terms.every(function (t) { return text.indexOf(t) >= 0; });
        item.hidden = !hit;
        if (hit) { any = true; shown += 1; }
      });
      var headingHit = terms.length > 0 && terms.every(function (t) { return heading.indexOf(t) >= 0; });
      if (headingHit) {
        Array.prototype.forEach.call(items, function (item) { item.hidden = false; });
      }
      sect.hidden = terms.length > 0 && !any && !headingHit;
    });
    status.textContent = terms.length === 0 ? "" :
      (shown === 0 ? "Nothing on this page matches." : shown + (shown === 1 ? " match." : " matches."));
  }
  search.addEventListener("input", filter);

  // Printing shows every note, closed or not.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      if (!d.open) { d.setAttribute("data-printed", ""); d.open = true; }
    });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-printed]"), function (d) {
      d.open = false; d.removeAttribute("data-printed");
    });
  });

  // ---- JsonLogic, strict and three-valued --------------------------------
  // Exactly the operators a rule pack uses (var, ===, !==, <, <=, >, >=, in,
  // !, and, or). An answer is a value, null (the question is not asked), or
  // unknown (not answered yet): a test of an unknown answer is unknown, and
  // and/or are Kleene's, so a condition is settled only when every answer
  // that could change it is known. Anything else is an error, not a guess.
  var UNKNOWN = { unknown: true };

  function fail(message) { throw new Error("rule pack: " + message); }

  function operand(e, known) {
    if (e === null || typeof e === "string" || typeof e === "number" || typeof e === "boolean") {
      return e;
    }
    if (typeof e === "object" && !Array.isArray(e)) {
      var keys = Object.keys(e);
      if (keys.length === 1 && keys[0] === "var") {
        var name = e["var"];
        if (typeof name !== "string") { fail("a var names a question by a string"); }
        return known.has(name) ? known.get(name) : UNKNOWN;
      }
    }
    fail("unexpected operand " + JSON.stringify(e));
  }

  function number(v) {
    if (typeof v !== "number") { fail("an order test needs a number, not " + JSON.stringify(v)); }
    return v;
  }

  function evaluate(e, known) {
    if (e === null || typeof e !== "object" || Array.isArray(e)) { fail("a condition is an object"); }
    var keys = Object.keys(e);
    if (keys.length !== 1) { fail("a condition has one operator"); }
    var op = keys[0];
    var args = e[op];
    if (!Array.isArray(args)) { fail("the arguments of " + op + " are a list"); }
    var a, b, i, v, open;
    switch (op) {
      case "===":
      case "!==":
        if (args.length !== 2) { fail(op + " takes two arguments"); }
        a = operand(args[0], known); b = operand(args[1], known);
        if (a === UNKNOWN || b === UNKNOWN) { return UNKNOWN; }
        return op === "===" ? a === b : a !== b;
      case "<": case "<=": case ">": case ">=":
        if (args.length !== 2) { fail(op + " takes two arguments"); }
        a = operand(args[0], known); b = operand(args[1], known);
        if (a === UNKNOWN || b === UNKNOWN) { return UNKNOWN; }
        a = number(a); b = number(b);
        return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
      case "in":
        if (args.length !== 2 || !Array.isArray(args[1])) { fail("in takes a value and a list"); }
        a = operand(args[0], known);
        if (a === UNKNOWN) { return UNKNOWN; }
        if (typeof a !== "string" && typeof a !== "number") { fail("in looks up a string or number"); }
        return args[1].indexOf(a) >= 0;
      case "!":
        if (args.length !== 1) { fail("! takes one argument"); }
        v = evaluate(args[0], known);
        return v === UNKNOWN ? UNKNOWN : !v;
      case "and":
      case "or":
        open = false;
        for (i = 0; i < args.length; i += 1) {
          v = evaluate(args[i], known);
          if (v === UNKNOWN) { open = true; } else if (v === (op === "or")) { return v; }
        }
        return open ? UNKNOWN : op === "and";
      default:
        return fail("unsupported operator " + op);
    }
  }

  // The questions a condition tests, by id.
  function tested(e, out) {
    if (e && typeof e === "object") {
      if (!Array.isArray(e) && Object.keys(e).length === 1 && Object.prototype.hasOwnProperty.call(e, "var")) {
        out.add(e["var"]);
      } else {
        Object.keys(e).forEach(function (k) { tested(e[k], out); });
      }
    }
    return out;
  }

  // ---- the pack ------------------------------------------------------------
  var questions = pack.questions;
  function questionById(id) { return questions.find(function (q) { return q.id === id; }); }
  var settingQuestion = questions.find(function (q) { return q.kind === "setting"; });
  function title(list, id) {
    var x = list.find(function (e) { return e.id === id; });
    return x ? x.title : id;
  }
  function actorTitle(id) { return title(pack.actors, id); }
  function policeFor(list, setting) {
    list = list || [];
    return list.find(function (p) { return p.settings.indexOf(setting) >= 0; }) ||
      list.find(function (p) { return p.settings.length === 0; }) || null;
  }

  // What is known from the answers given: each answer, and null for each
  // question the answers show is not asked ("asked when" tests only earlier
  // questions, so one pass in order finds them all).
  function knownOf(answers) {
    var known = new Map();
    questions.forEach(function (q) {
      if (answers.has(q.id)) {
        known.set(q.id, answers.get(q.id));
      } else if (q.asked_when && evaluate(q.asked_when, known) === false) {
        known.set(q.id, null);
      }
    });
    return known;
  }

  // The question to ask for `id`: itself when it applies, else first the
  // questions its "asked when" waits on.
  function askable(id, known) {
    var q = questionById(id);
    if (q && q.asked_when && evaluate(q.asked_when, known) === UNKNOWN) {
      var waits = tested(q.asked_when, new Set());
      var first = questions.find(function (x) { return waits.has(x.id) && !known.has(x.id); });
      if (first) { return askable(first.id, known); }
    }
    return id;
  }

  function branchTakes(branch, v) {
    if (v === null) { return branch.not_asked === true; }
    if (branch.not_asked) { return false; }
    if (branch.answers && branch.answers.length) { return branch.answers.indexOf(v) >= 0; }
    if (typeof v !== "number") { return false; }
    return (branch.at_least === undefined || v >= branch.at_least) &&
      (branch.below === undefined || v < branch.below);
  }

  // Walk the compiled decision for the setting: the outcome, or the node
  // whose question is still to be answered.
  function walkDecision(known, setting) {
    var d = pack.decision;
    var start = d.starts.find(function (s) { return s.setting === setting; }) || d.starts[0];
    var at = start;
    var seen = 0;
    while (at.node !== undefined) {
      var node = d.nodes[at.node];
      if (!node || (seen += 1) > d.nodes.length) { fail("the compiled decision is broken"); }
      if (!known.has(node.question)) { return { node: node }; }
      var v = known.get(node.question);
      var next = node.branches.find(function (b) { return branchTakes(b, v); });
      if (!next) { return { ruledOut: node.question }; }
      at = next;
    }
    return { outcome: d.outcomes[at.outcome] };
  }

  // Once the level is settled, the first question a procedure's condition
  // still waits on (with the questions their "asked when" waits on).
  function procedureQuestion(known) {
    var waits = new Set();
    pack.procedures.forEach(function (p) {
      if (evaluate(p.when, known) === UNKNOWN) { tested(p.when, waits); }
    });
    if (waits.size === 0) { return null; }
    var grew = true;
    while (grew) {
      grew = false;
      questions.forEach(function (q) {
        if (waits.has(q.id) && q.asked_when) {
          tested(q.asked_when, new Set()).forEach(function (t) {
            if (!waits.has(t)) { waits.add(t); grew = true; }
          });
        }
      });
    }
    var open = questions.filter(function (q) { return waits.has(q.id) && !known.has(q.id); });
    var applies = open.find(function (q) { return !q.asked_when || evaluate(q.asked_when, known) === true; });
    if (applies) { return applies.id; }
    return open.length ? askable(open[0].id, known) : null;
  }

  // ---- deciding, as carepath decide does -----------------------------------
  function settle(n, known) {
    var i;
    for (i = 0; i < (n.always || []).length; i += 1) {
      if (evaluate(n.always[i].when, known) === true) { return { answer: n.always[i].answer, by: "the document" }; }
    }
    if (!n.on) { return null; }
    if (n.on.question !== undefined) {
      var v = known.has(n.on.question) ? known.get(n.on.question) : UNKNOWN;
      if (v === true) { return { answer: "yes", by: "your answers" }; }
      if (v === false) { return { answer: "no", by: "your answers" }; }
      if (typeof v === "string") { return { answer: v, by: "your answers" }; }
      return null;
    }
    if (n.on.when !== undefined) {
      var held = evaluate(n.on.when, known);
      if (held === UNKNOWN) { return null; }
      return { answer: held ? "yes" : "no", by: "your answers" };
    }
    return null;
  }

  function factorsFor(names, known) {
    var out = [];
    var todo = names.slice();
    while (todo.length) {
      var id = todo.pop();
      var f = pack.factors.find(function (x) { return x.id === id; });
      if (!f || out.indexOf(f) >= 0) { continue; }
      if (f.applies_when && evaluate(f.applies_when, known) === false) { continue; }
      out.push(f);
      f.includes.slice().reverse().forEach(function (x) { todo.push(x); });
    }
    return out;
  }

  function held(c, known) { return c === undefined ? true : evaluate(c, known); }

  function walkRoute(route, start, known, setting) {
    var steps = [];
    var seen = [];
    var at = route.nodes.find(function (n) { return n.id === start; });
    while (at) {
      if (seen.indexOf(at) >= 0) {
        if (steps.length) { steps[steps.length - 1].again = at; }
        break;
      }
      seen.push(at);
      var n = at;
      var only = held(n.only_when, known);
      if (only === false) {
        at = route.nodes.find(function (x) { return x.id === n.next; });
        continue;
      }
      var step = {
        node: n,
        onlyIf: only === UNKNOWN ? n.only_when_text : null,
        by: (n.by || []).filter(function (b) { return b.settings.length === 0 || b.settings.indexOf(setting) >= 0; })
          .map(function (b) { return actorTitle(b.actor); }),
        actions: (n.actions || []).filter(function (a) { return held(a.when, known) !== false; })
          .map(function (a) { return { action: a, onlyIf: held(a.when, known) === UNKNOWN ? a.when_text : null }; }),
        timing: (n.timing || []).filter(function (t) { return held(t.when, known) !== false; })
          .map(function (t) {
            var text = t.text;
            if (held(t.when, known) === UNKNOWN) { text += " (if " + (t.when_text || "") + ")"; }
            if (t.qualifier) { text += ", " + t.qualifier; }
            return text;
          }),
        settled: null,
        weigh: []
      };
      if (n.kind === "step") {
        at = route.nodes.find(function (x) { return x.id === n.next; });
      } else if (n.kind === "decision") {
        step.settled = settle(n, known);
        if (step.settled) {
          var b = n.branches.find(function (x) { return x.answer === step.settled.answer; });
          at = b ? route.nodes.find(function (x) { return x.id === b.to; }) : null;
        } else {
          step.weigh = factorsFor(n.weigh || [], known);
          at = null;
        }
      } else {
        at = null;
      }
      steps.push(step);
    }
    return { route: route, steps: steps };
  }

  function routeFor(setting, startOf, known) {
    var route = pack.routes.find(function (r) {
      return r.settings.indexOf(setting) >= 0 && r.starts.some(startOf);
    });
    if (!route) { return null; }
    return walkRoute(route, route.starts.find(startOf).node, known, setting);
  }

  function decide(known, setting, outcome) {
    var level = pack.levels.find(function (l) { return l.id === outcome.level; });
    var holding = pack.rules.filter(function (r) { return r.effect === "decides" && evaluate(r.when, known) === true; });
    var deciding = pack.policy.kind === "first-match" ? holding.slice(0, 1) :
      holding.filter(function (r) { return r.level === level.id; });
    var suggestions = pack.rules.filter(function (r) {
      return r.effect === "suggests" && r.level !== level.id && evaluate(r.when, known) === true;
    });
    var route = null;
    deciding.some(function (r) {
      route = routeFor(setting, function (s) { return s.rule === r.id; }, known);
      return route !== null;
    });
    if (!route) { route = routeFor(setting, function (s) { return s.level === level.id; }, known); }
    var procedures = pack.procedures.filter(function (p) { return evaluate(p.when, known) === true; })
      .map(function (p) {
        return {
          procedure: p,
          police: policeFor(p.police, setting),
          route: routeFor(setting, function (s) { return s.procedure === p.id; }, known)
        };
      });
    var accepted = pack.accepted_findings.filter(function (f) {
      return f.applies_when !== undefined && evaluate(f.applies_when, known) === true;
    });
    return {
      level: level, police: outcome.police, deciding: deciding, suggestions: suggestions,
      route: route, procedures: procedures, accepted: accepted, setting: setting
    };
  }

  // ---- the panel -------------------------------------------------------------
  var panel = document.getElementById("try-panel");
  var answers = new Map();
  var order = [];
  var error = "";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function add(parent, tag, attrs, text) { var e = el(tag, attrs, text); parent.appendChild(e); return e; }

  function badge(parent, police) {
    var r = police ? police.response : "unstated";
    var b = add(parent, "span", { "class": "badge r-" + r });
    add(b, "span", { "class": "dot", "aria-hidden": "true" });
    b.appendChild(document.createTextNode(words[r] + (police && police.by ? ", by " + actorTitle(police.by) : "")));
    return b;
  }

  // The protocol's own document (named like the protocol, else the one its
  // title cites) goes without saying; a section of another says whose, as
  // the page's text does.
  var mainDocument = pack.documents.some(function (d) { return d.id === pack.protocol.id; })
    ? pack.protocol.id
    : (pack.protocol.title.cites.length ? pack.protocol.title.cites[0].document : null);
  function citeText(cites) {
    return cites.map(function (c) {
      return c.document === mainDocument ? c.section : c.section + " (" + title(pack.documents, c.document) + ")";
    }).join("; ");
  }
  function cites(parent, list) {
    if (!list || !list.length) { return; }
    var p = add(parent, "p", { "class": "cites" });
    add(p, "span", { "class": "label" }, "Source: ");
    add(p, "cite", {}, citeText(list));
  }

  function answerWords(q, v) {
    if (v === true) { return "yes"; }
    if (v === false) { return "no"; }
    if (q.kind === "amount") { return "£" + v; }
    if (typeof v === "string") {
      var opts = q.kind === "setting" ? pack.settings : q.options;
      return title(opts, v);
    }
    return String(v);
  }

  function buttons(parent, withNext) {
    var row = add(parent, "div", { "class": "buttons" });
    if (withNext) { add(row, "button", { type: "submit", id: "try-next", "class": "primary" }, "Next"); }
    var back = add(row, "button", { type: "button", id: "try-back" }, "Back");
    back.disabled = order.length === 0;
    back.addEventListener("click", function () {
      var last = order.pop();
      answers.delete(last);
      error = "";
      render(true);
    });
    var again = add(row, "button", { type: "button", id: "try-restart" }, "Start again");
    again.disabled = order.length === 0;
    again.addEventListener("click", function () {
      answers.clear(); order.length = 0; error = "";
      render(true);
    });
  }

  function given(parent) {
    if (!order.length) { return; }
    var d = add(parent, "div", { "class": "given" });
    add(d, "h4", {}, "Your answers");
    var ul = add(d, "ul", {});
    order.forEach(function (id) {
      var q = questionById(id);
      var li = add(ul, "li", { "data-q": id, "data-v": JSON.stringify(answers.get(id)) });
      add(li, "span", { "class": "qtext" }, q.text + " ");
      add(li, "strong", {}, answerWords(q, answers.get(id)));
    });
  }

  // The answers a node of the compiled decision lets through, for a
  // question with options: those its branches list (the others are ruled
  // out there).
  function ask(qid, node) {
    var q = questionById(qid);
    var form = add(panel, "form", { id: "try-form", "class": "ask", novalidate: "" });
    var fs = add(form, "fieldset", { "data-question": qid });
    add(fs, "legend", { id: "try-legend" }, q.text);
    var i = 0;
    function radio(value, label) {
      var id = "try-opt-" + (i += 1);
      var row = add(fs, "div", { "class": "choice" });
      var input = add(row, "input", { type: "radio", name: "answer", id: id });
      input.value = value;
      add(row, "label", { "for": id }, label);
    }
    var allowed = null;
    if (node) {
      allowed = [];
      node.branches.forEach(function (b) { (b.answers || []).forEach(function (a) { allowed.push(a); }); });
    }
    var ok = function (v) { return allowed === null || allowed.indexOf(v) >= 0; };
    if (q.kind === "yes-no") {
      if (ok(true)) { radio("true", "Yes"); }
      if (ok(false)) { radio("false", "No"); }
    } else if (q.kind === "one-of" || q.kind === "scale" || q.kind === "setting") {
      var opts = q.kind === "setting" ? pack.settings : q.options;
      opts.forEach(function (o) { if (ok(o.id)) { radio(o.id, o.title); } });
    } else {
      var row = add(fs, "div", { "class": "number" });
      add(row, "label", { "for": "try-number" }, q.kind === "amount" ? "Amount in pounds" : "How many");
      var input = add(row, "input", { id: "try-number", name: "answer", type: "text", inputmode: q.kind === "amount" ? "decimal" : "numeric", autocomplete: "off" });
      if (q.kind === "count") { input.setAttribute("aria-describedby", "try-hint"); add(fs, "p", { id: "try-hint", "class": "hint" }, "A whole number of at least " + (q.minimum === undefined ? 0 : q.minimum) + "."); }
      else { input.setAttribute("aria-describedby", "try-hint"); add(fs, "p", { id: "try-hint", "class": "hint" }, "Pounds, with at most two decimals, e.g. 12 or 12.50."); }
    }
    if (q.asked_when_text) { add(fs, "p", { "class": "hint" }, "Asked because: " + q.asked_when_text); }
    cites(fs, q.cites);
    var err = add(form, "p", { id: "try-error", "class": "error", role: "alert" }, error);
    if (!error) { err.hidden = true; }
    buttons(form, true);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var value;
      if (q.kind === "count" || q.kind === "amount") {
        var text = form.querySelector("#try-number").value.trim().replace(/^£/, "");
        var pattern = q.kind === "count" ? /^[0-9]+$/ : /^[0-9]+(\.[0-9]{1,2})?$/;
        var min = q.kind === "count" && q.minimum !== undefined ? q.minimum : 0;
        if (!pattern.test(text) || Number(text) < min) {
          error = q.kind === "count" ? "Give a whole number of at least " + min + "." :
            "Give an amount in pounds, with at most two decimals.";
          render(true);
          return;
        }
        value = Number(text);
        if (node && !node.branches.some(function (b) { return branchTakes(b, value); })) {
          error = "The protocol rules that answer out here.";
          render(true);
          return;
        }
      } else {
        var picked = form.querySelector("input[name=answer]:checked");
        if (!picked) { error = "Choose an answer."; render(true); return; }
        value = picked.value === "true" ? true : picked.value === "false" ? false : picked.value;
      }
      error = "";
      answers.set(qid, value);
      order.push(qid);
      render(true);
    });
  }

  function showRoute(parent, walked, heading) {
    var box = add(parent, "div", { "class": "walked", "data-route": walked.route.id });
    add(box, "h4", {}, heading + ": " + walked.route.title);
    var ol = add(box, "ol", { "class": "flow" });
    walked.steps.forEach(function (s) {
      var n = s.node;
      var li = add(ol, "li", { "class": "node n-" + n.kind, "data-step": n.id });
      var p = add(li, "p", { "class": "node-text" });
      add(p, "span", { "class": "kind" }, (n.kind === "step" ? "Step" : n.kind === "decision" ? "Decision" : "Outcome") + ": ");
      p.appendChild(document.createTextNode(n.text));
      if (s.onlyIf) { add(li, "p", { "class": "only" }, "Only if " + s.onlyIf); }
      if (s.by.length) { add(li, "p", { "class": "by" }, "Who: " + s.by.join("; ")); }
      if (s.actions.length) {
        var ul = add(li, "ul", { "class": "actions" });
        s.actions.forEach(function (a) {
          var item = add(ul, "li", {});
          item.appendChild(document.createTextNode({ contact: "Contact ", consult: "Consult ", inform: "Inform ", report: "Report to " }[a.action.kind]));
          a.action.targets.forEach(function (chain, ci) {
            if (ci > 0) { item.appendChild(document.createTextNode(" and ")); }
            chain.forEach(function (t, ti) {
              if (ti > 0) { item.appendChild(document.createTextNode(", else ")); }
              var c = pack.contacts.find(function (x) { return x.id === t; });
              item.appendChild(document.createTextNode(c ? c.title : actorTitle(t)));
              if (c && c.phone) {
                item.appendChild(document.createTextNode(" "));
                var digits = c.phone.replace(/^([^(a-z]*).*$/i, "$1").replace(/[^0-9+]/g, "").replace(/(?!^)\+/g, "");
                if (/[0-9]/.test(digits)) {
                  var link = add(item, "a", { "class": "tel" }, c.phone);
                  link.href = "tel:" + digits;
                } else {
                  add(item, "span", { "class": "tel" }, c.phone);
                }
              }
            });
          });
          if (a.onlyIf) { item.appendChild(document.createTextNode(" (only if " + a.onlyIf + ")")); }
          if (a.action.in_doubt) { item.appendChild(document.createTextNode(" (in cases of doubt)")); }
        });
      }
      if (s.timing.length) { add(li, "p", { "class": "timing" }, "When: " + s.timing.join("; ")); }
      if (n.kind === "decision") {
        if (s.settled) {
          var t = (n.answers || []).find(function (a) { return a.id === s.settled.answer; });
          add(li, "p", { "class": "answer" }, "Answer: " + (t ? t.title : s.settled.answer) + " (settled by " + s.settled.by + ")");
        } else {
          var bl = add(li, "ul", { "class": "branches" });
          add(li, "p", { "class": "hint" }, "Staff decide here:");
          li.appendChild(bl);
          n.branches.forEach(function (b) {
            var a = (n.answers || []).find(function (x) { return x.id === b.answer; });
            var to = walked.route.nodes.find(function (x) { return x.id === b.to; });
            add(bl, "li", {}, (a ? a.title : b.answer) + " \u2192 " + (to ? to.text : b.to));
          });
          s.weigh.forEach(function (f) {
            add(li, "p", { "class": "weigh" }, "Weigh: " + f.title);
          });
        }
      }
      if ((n.complete || []).length) {
        add(li, "p", {}, "Complete: " + n.complete.map(function (c) { return title(pack.checklists, c); }).join("; "));
      }
      if (s.again) { add(li, "p", { "class": "again" }, "Then again from: " + s.again.text); }
      cites(li, n.cites);
    });
  }

  function result(outcome) {
    var setting = answers.has(settingQuestion ? settingQuestion.id : "") ? answers.get(settingQuestion.id) :
      (pack.settings[0] ? pack.settings[0].id : "");
    var known = knownOf(answers);
    var box = add(panel, "div", { "class": "result", id: "try-result", tabindex: "-1" });
    if (outcome.level === undefined) {
      box.setAttribute("data-level", "");
      add(box, "h3", {}, "The protocol gives this incident no level");
      add(box, "p", {}, outcome.no_level === "conflict" ?
        "Rules of different levels apply, and the protocol says they must not overlap." :
        "No rule applies, and the protocol gives no level for incidents no rule places.");
      var code = outcome.no_level === "conflict" ? "carepath::conflict" : "carepath::gap";
      pack.accepted_findings.filter(function (f) {
        return f.code === code && (f.applies_when === undefined || evaluate(f.applies_when, known) !== false);
      }).forEach(function (f) { add(box, "p", { "class": "reason" }, f.reason); cites(box, f.cites); });
      given(box);
      buttons(box, false);
      return;
    }
    var d = decide(known, setting, outcome);
    box.setAttribute("data-level", d.level.id);
    box.setAttribute("data-police", d.police ? d.police.response : "unstated");
    box.setAttribute("data-police-by", d.police && d.police.by ? actorTitle(d.police.by) : "");
    var h = add(box, "h3", { "class": "level-title" });
    h.appendChild(document.createTextNode("Level: " + d.level.title));
    var pol = add(box, "p", { "class": "police-line" });
    add(pol, "span", { "class": "label" }, "Police: ");
    badge(pol, d.police);
    if (d.level.meaning) { add(box, "p", { "class": "meaning" }, d.level.meaning); }
    var why = add(box, "div", { "class": "why" });
    if (d.deciding.length) {
      add(why, "h4", {}, "Because");
      var ul = add(why, "ul", {});
      d.deciding.forEach(function (r) {
        var li = add(ul, "li", { "data-rule": r.id });
        if (r.title) { add(li, "strong", {}, r.title + " "); }
        add(li, "code", { "class": "cond" }, r.when_text);
        cites(li, r.cites);
      });
    } else {
      add(why, "p", {}, "No rule applies: this is the level the protocol gives an incident that no rule places.");
    }
    if (d.suggestions.length) {
      add(why, "h4", {}, "Also consider");
      var sl = add(why, "ul", {});
      d.suggestions.forEach(function (r) {
        var li = add(sl, "li", {}, title(pack.levels, r.level) + ": " + r.when_text);
        cites(li, r.cites);
      });
    }
    add(box, "h4", {}, "Procedures alongside");
    if (d.procedures.length) {
      var pl = add(box, "ul", { "class": "procs" });
      d.procedures.forEach(function (p) {
        var li = add(pl, "li", { "data-procedure": p.procedure.id });
        add(li, "strong", {}, p.procedure.title);
        if (p.police) { li.appendChild(document.createTextNode(" ")); badge(li, p.police); }
        cites(li, p.procedure.cites);
      });
    } else {
      add(box, "p", {}, "None.");
    }
    if (d.route) {
      showRoute(box, d.route, "Route");
    } else {
      var s = pack.settings.find(function (x) { return x.id === setting; });
      add(box, "p", { "class": "no-route" }, "No route for this setting" + (s && s.no_route ? ": " + s.no_route : "."));
    }
    d.procedures.forEach(function (p) { if (p.route) { showRoute(box, p.route, p.procedure.title); } });
    var walkedRoutes = [d.route].concat(d.procedures.map(function (p) { return p.route; })).filter(Boolean);
    var checklists = [];
    walkedRoutes.forEach(function (w) {
      w.steps.forEach(function (s) {
        (s.node.complete || []).forEach(function (c) { if (checklists.indexOf(c) < 0) { checklists.push(c); } });
      });
    });
    checklists.forEach(function (id) {
      var c = pack.checklists.find(function (x) { return x.id === id; });
      if (!c) { return; }
      add(box, "h4", {}, "Checklist: " + c.title);
      var ol = add(box, "ol", {});
      c.items.forEach(function (i) {
        add(ol, "li", {}, i.text + (i.by.length ? " (" + i.by.map(actorTitle).join(", ") + ")" : ""));
      });
    });
    if (d.accepted.length) {
      add(box, "h4", {}, "What the document leaves open here");
      var al = add(box, "ul", {});
      d.accepted.forEach(function (f) { var li = add(al, "li", {}, f.reason); cites(li, f.cites); });
    }
    var all = [];
    function collect(list) { (list || []).forEach(function (c) { var t = citeText([c]); if (all.indexOf(t) < 0) { all.push(t); } }); }
    collect(d.level.cites);
    d.deciding.forEach(function (r) { collect(r.cites); });
    d.procedures.forEach(function (p) { collect(p.procedure.cites); });
    walkedRoutes.forEach(function (w) { w.steps.forEach(function (s) { collect(s.node.cites); }); });
    if (all.length) {
      add(box, "h4", {}, "The paragraphs behind this");
      add(box, "p", { "class": "cites" }, all.join("; "));
    }
    given(box);
    buttons(box, false);
  }

  function render(focus) {
    panel.textContent = "";
    try {
      // With one setting there is nothing to ask: it is that one.
      if (settingQuestion && !answers.has(settingQuestion.id) && pack.settings.length === 1) {
        answers.set(settingQuestion.id, pack.settings[0].id);
      }
      var known = knownOf(answers);
      if (settingQuestion && !answers.has(settingQuestion.id)) {
        ask(settingQuestion.id, null);
      } else {
        var setting = settingQuestion ? answers.get(settingQuestion.id) : (pack.settings[0] || {}).id;
        if (!pack.decision) {
          add(panel, "p", { "class": "error" }, "This protocol's decision is too large to ship as a diagram; use carepath decide.");
          return;
        }
        var walked = walkDecision(known, setting);
        if (walked.node) {
          ask(askable(walked.node.question, known), walked.node.question === askable(walked.node.question, known) ? walked.node : null);
        } else if (walked.ruledOut) {
          add(panel, "p", { "class": "error", role: "alert" }, "An answer given is one the protocol rules out; go back and change it.");
          buttons(panel, false);
        } else {
          var next = walked.outcome.level === undefined ? null : procedureQuestion(known);
          if (next) { ask(next, null); } else { result(walked.outcome); }
        }
      }
    } catch (e) {
      panel.textContent = "";
      add(panel, "p", { "class": "error", role: "alert", id: "try-failure" }, "The panel cannot use this rule pack: " + e.message);
    }
    if (focus) {
      var target = panel.querySelector("#try-error:not([hidden])") || panel.querySelector("input") || panel.querySelector("#try-result");
      if (target) { target.focus(); }
    }
  }

  render(false);
}());
