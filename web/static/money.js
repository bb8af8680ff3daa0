/* Money on the phone: the one parser of typed amounts and the one formatter, the same algorithms as
 * shared/money.py (parse_amount, format_money) over the tables of the generated rules.js. Both runtimes pass the
 * golden cases in tests/golden/amounts.json (tests/e2e/test_rules_conformance.py); change both or neither. */
"use strict";

var Money = (function () {
  const C = RULES.currency;
  const GAPS = " \u00a0\u202f\u2009'’";
  const DIGITS = "0123456789";
  const MULTIPLIERS = { k: 1000n, m: 1000000n };

  function digits(currency) {
    if (currency === C.chips) return 0;
    const d = C.digits[String(currency)];
    return d === undefined ? C.default_digits : d;
  }

  const strip = (text, chars) => {
    let a = 0;
    let b = text.length;
    while (a < b && chars.includes(text[a])) a++;
    while (b > a && chars.includes(text[b - 1])) b--;
    return text.slice(a, b);
  };
  const allDigits = (text) => text.length > 0 && [...text].every((c) => DIGITS.includes(c));

  class AmountError extends Error {
    constructor(code, text, currency) {
      super(RULES.amount_errors[code].replace("{text}", strip(text, GAPS)).replace("{currency}", currency)
        .replace("{digits}", String(digits(currency))));
      this.code = code;
    }
  }

  function stripCurrency(text, currency) {
    const marks = [currency, currency.toLowerCase()];
    const symbol = C.symbols[currency] || "";
    if (symbol) {
      marks.push(symbol);
      if (symbol.endsWith("$")) marks.push("$");
    }
    // Longest first, as sorted(..., key=len, reverse=True) (a stable sort in both runtimes).
    marks.sort((a, b) => b.length - a.length);
    for (const mark of marks) {
      if (text.startsWith(mark)) return text.slice(mark.length);
      if (text.endsWith(mark)) return text.slice(0, text.length - mark.length);
    }
    return text;
  }

  function namesACurrency(text) {
    const letters = [...text].filter((c) => !(DIGITS + ".," + GAPS).includes(c)).join("");
    return C.iso.includes(letters.toUpperCase()) ||
      Object.values(C.symbols).some((s) => s.trim() && text.includes(s.trim()));
  }

  function groupsOf(whole) {
    const separators = new Set([...whole].filter((c) => !DIGITS.includes(c)));
    if (separators.size > 1) return ["", whole];
    if (!separators.size) return [whole];
    return whole.split([...separators][0]);
  }

  function split(body, currency, decimalMark, fail) {
    const marks = [...body].map((c, i) => (".,".includes(c) ? i : -1)).filter((i) => i >= 0);
    let decimalAt = null;
    if (marks.length) {
      const lastAt = marks[marks.length - 1];
      const after = body.slice(lastAt + 1);
      if (new Set(marks.map((i) => body[i])).size === 2 || (marks.length === 1 && after.length !== 3)) {
        decimalAt = lastAt;
      } else if (marks.length === 1 && body[lastAt] === decimalMark) {
        const d = digits(currency);
        if (d === 3 || strip(body.slice(0, lastAt), GAPS) === "0") decimalAt = lastAt;
        else if (d !== 0) throw fail("ambiguous");
      }
    }
    const whole = decimalAt === null ? body : body.slice(0, decimalAt) || "0";
    const fraction = decimalAt === null ? "" : body.slice(decimalAt + 1);
    if (fraction && !allDigits(fraction)) throw fail("not_a_number");
    const groups = groupsOf(whole);
    if (!groups.every(allDigits)) throw fail("not_a_number");
    if (groups.length > 1 && (groups[0].length > 3 || groups[0][0] === "0" ||
      groups.slice(1).some((g) => g.length !== 3))) throw fail("bad_grouping");
    return [groups.join(""), fraction];
  }

  /** Minor units of what the player typed, or throws AmountError (err.code names the rule, err.message says it). */
  function parse(text, currency, decimalMark) {
    const fail = (code) => new AmountError(code, String(text), currency);
    let body = strip(stripCurrency(strip(String(text), GAPS), currency), GAPS);
    if (!body) throw fail("empty");
    if ("-−".includes(body[0])) throw fail("negative");
    const multiplier = MULTIPLIERS[body.slice(-1).toLowerCase()] || 1n;
    if (multiplier > 1n) body = strip(body.slice(0, -1), GAPS);
    const chars = [...body];
    if (!body || chars.some((c) => !(DIGITS + ".," + GAPS).includes(c)) || !chars.some((c) => DIGITS.includes(c))) {
      throw fail(namesACurrency(body) ? "other_currency" : "not_a_number");
    }
    const [whole, fraction] = split(body, currency, decimalMark, fail);
    const scaled = BigInt(whole + fraction) * multiplier * 10n ** BigInt(digits(currency));
    const unit = 10n ** BigInt(fraction.length);
    if (scaled % unit) throw fail("too_many_decimals");
    const value = scaled / unit;
    if (value > BigInt(C.max_amount)) throw fail("too_large");
    return Number(value);
  }

  /** The player's decimal mark, from the browser's locale: "," for de-DE, "." for en-US. */
  function decimalMark(locale) {
    const part = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal");
    return part && part.value === "," ? "," : ".";
  }

  /** Minor units for people, as shared.money.format_money: "-$1,234.56", "20,000.00 HUF", "+$600.00". */
  function format(minor, currency, options) {
    const o = Object.assign({ signed: false, whole: false, symbol: true, grouping: true }, options || {});
    const d = digits(currency);
    const abs = BigInt(Math.abs(minor));
    const scale = 10n ** BigInt(d);
    const units = abs / scale;
    const frac = abs % scale;
    let number = o.grouping ? units.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",") : units.toString();
    if (d && !(o.whole && frac === 0n)) number = `${number}.${frac.toString().padStart(d, "0")}`;
    const sign = minor < 0 ? "-" : o.signed && minor > 0 ? "+" : "";
    if (!o.symbol) return `${sign}${number}`;
    const mark = C.symbols[currency];
    return mark ? `${sign}${mark}${number}` : `${sign}${number} ${currency}`;
  }

  /** Minor units as the plain number an amount field starts with ("200.00", "20000"). */
  function plain(minor, currency) {
    return minor == null ? "" : format(minor, currency, { symbol: false, grouping: false });
  }

  return { parse, format, plain, digits, decimalMark, AmountError, CHIPS: C.chips };
})();
