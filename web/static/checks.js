/* The server's intake rules for what the phone writes, read from the generated rules.js: each field's bounds
 * (lengths, ranges, choices) and the start's cross-field rules (shared/events.py `_check_rules`). The golden
 * starts in tests/golden/starts.json pass through this and through the server's decode_event alike
 * (tests/e2e/test_rules_conformance.py). */
"use strict";

var Checks = (function () {
  const length = (text) => [...text].length; // code points, as Python's len

  function field(rule, value, path, out) {
    if (value === undefined || value === null) {
      if (rule.required && !(rule.nullable && value === null)) out.push({ path, rule: "required" });
      return;
    }
    if (rule.kind === "int") {
      if (!Number.isInteger(value)) out.push({ path, rule: "integer" });
      else if ((rule.min != null && value < rule.min) || (rule.max != null && value > rule.max)) {
        out.push({ path, rule: "range", min: rule.min, max: rule.max });
      }
    } else if (rule.kind === "str") {
      if (typeof value !== "string") out.push({ path, rule: "text" });
      else if (rule.min_length != null && length(value) < rule.min_length) out.push({ path, rule: "too_short", min: rule.min_length });
      else if (rule.max_length != null && length(value) > rule.max_length) out.push({ path, rule: "too_long", max: rule.max_length });
      else if (rule.pattern && !new RegExp(rule.pattern).test(value)) out.push({ path, rule: "pattern" });
    } else if (rule.kind === "choice") {
      if (!rule.choices.includes(value)) out.push({ path, rule: "choice", choices: rule.choices });
    } else if (rule.kind === "list") {
      if (!Array.isArray(value)) out.push({ path, rule: "list" });
      else if (rule.max_length != null && value.length > rule.max_length) out.push({ path, rule: "too_many", max: rule.max_length });
      else value.forEach((v, i) => field(rule.item, v, `${path}[${i}]`, out));
    } else if (rule.kind === "object") {
      object(rule.fields, value, path, out);
    }
  }

  function object(fields, value, path, out) {
    if (typeof value !== "object" || Array.isArray(value)) {
      out.push({ path, rule: "object" });
      return;
    }
    for (const key of Object.keys(value)) if (!(key in fields)) out.push({ path, rule: "unknown", field: key });
    for (const [key, rule] of Object.entries(fields)) field(rule, value[key], `${path}.${key}`, out);
  }

  /** Every problem the server would find in this event's data: [{path, rule, ...}], empty when it is accepted. */
  function data(type, value) {
    const out = [];
    object(RULES.events[type], value, "$.data", out);
    return out;
  }

  /** The problems of a session start: its fields' bounds, then the cross-field rules of shared/events.py. */
  function start(value) {
    const out = data("session.started", value);
    const bad = (path) => out.some((p) => p.path.startsWith(path));
    if (!bad("$.data.currency") && !RULES.currency.iso.includes(value.currency)) {
      out.push({ path: "$.data.currency", rule: "currency" });
    }
    const stakes = value.stakes;
    if (RULES.start.big_blind_required_for.includes(value.format) && !(stakes && stakes.big_blind)) {
      if (!bad("$.data.stakes.big_blind")) out.push({ path: "$.data.stakes.big_blind", rule: "big_blind_required" });
    }
    blinds(stakes, "$.data.stakes", out);
    return out;
  }

  /** The small blind is at most the big blind (a start's stakes, a tournament count's blinds). */
  function blinds(value, path, out) {
    if (value && Number.isInteger(value.small_blind) && Number.isInteger(value.big_blind) &&
      value.small_blind > value.big_blind) out.push({ path: `${path}.small_blind`, rule: "small_above_big" });
  }

  /** The problems of a stack count: its fields' bounds, then the blinds' rule. */
  function counted(value) {
    const out = data("stack.counted", value);
    if (!out.some((p) => p.path.startsWith("$.data.blinds"))) blinds(value.blinds, "$.data.blinds", out);
    return out;
  }

  return { data, start, counted };
})();
