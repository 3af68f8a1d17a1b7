// Progressive enhancement only: a live hint of the weighed mass against the dispatched one.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const input = document.querySelector("input[data-dispatched-mg]");
  const hint = document.getElementById("discrepancy");
  if (!input || !hint) return;
  const dispatched = Number(input.dataset.dispatchedMg);
  const lang = document.documentElement.lang || "es";
  const grams = new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  const pct = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // Milligrams from what was typed, as the server reads it (a comma may be the decimal mark).
  const milligrams = (text) => {
    let t = text.trim();
    if (t.includes(",") && !t.includes(".")) t = t.replace(",", ".");
    const m = /^(\d{1,15})(?:\.(\d{1,3}))?$/.exec(t);
    return m ? Number(m[1]) * 1000 + Number((m[2] || "").padEnd(3, "0")) : null;
  };
  const update = () => {
    const mg = milligrams(input.value);
    if (mg === null || !dispatched) { hint.hidden = true; return; }
    const diff = mg - dispatched;
    const sign = diff > 0 ? "+" : diff < 0 ? "-" : "";
    const text = `${sign}${grams.format(Math.abs(diff) / 1000)} g (${sign}${pct.format(Math.abs(diff) * 100 / dispatched)} %)`;
    hint.textContent = hint.dataset.template.replace("{difference}", text);
    hint.hidden = false;
  };
  input.addEventListener("input", update);
  update();
});
