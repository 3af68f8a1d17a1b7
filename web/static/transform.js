// The transform page's live preview: fine gold in, fine gold out and the loss, as the person types.
// Progressive enhancement: the server shows the same figures after every submit. Quantities are exact
// integers (BigInt): milligrams and parts per ten thousand, with fine gold rounded down like the server,
// floor(mass_mg x fineness / 10000), and the percentage truncated toward zero.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-transform]");
  const preview = document.getElementById("transform-preview");
  if (!form || !preview) return;
  const decimal = preview.dataset.decimal || ".";
  const group = preview.dataset.group || ",";
  const NUMBER = /^(\d{1,15})(?:\.(\d+))?$/;
  const SCALE = 10000n;
  const MAX_MASS_MG = 100000000000n; // 100 t, as domain/quantities.py

  // "12.5" (or "12,5": a comma is a decimal mark when there is no point, as on the server)
  // -> 12500n for 3 decimals; null when the server would refuse it.
  function parse(text, decimals) {
    let value = text.trim();
    if (value.includes(",") && !value.includes(".")) value = value.replace(/,/g, ".");
    const match = NUMBER.exec(value);
    if (!match) return null;
    const frac = match[2] || "";
    if (frac.length > decimals) return null;
    return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  }

  function digits(whole) {
    return whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, group);
  }

  function fixed(value, decimals) {
    const negative = value < 0n;
    const size = 10n ** BigInt(decimals);
    const abs = negative ? -value : value;
    const frac = (abs % size).toString().padStart(decimals, "0");
    return (negative ? "-" : "") + digits(abs / size) + decimal + frac;
  }

  function fine(mass, parts) {
    return (mass * parts) / SCALE;
  }

  function show(name, text) {
    const el = preview.querySelector(`[data-preview="${name}"]`);
    if (el) el.textContent = text;
  }

  function update() {
    let fineIn = 0n;
    for (const box of form.querySelectorAll("input[name='inputs']:checked")) {
      fineIn += fine(BigInt(box.dataset.massMg), BigInt(box.dataset.fineness));
    }
    let fineOut = 0n;
    const masses = form.querySelectorAll("[data-output-mass]");
    const finenesses = form.querySelectorAll("[data-output-fineness]");
    masses.forEach((massField, i) => {
      const mass = parse(massField.value, 3);
      const parts = parse(finenesses[i].value, 1);
      if (mass !== null && mass > 0n && mass <= MAX_MASS_MG && parts !== null && parts <= SCALE) {
        fineOut += fine(mass, parts);
      }
    });
    const loss = fineIn - fineOut;
    show("in", fixed(fineIn, 3));
    show("out", fixed(fineOut, 3));
    show("loss", fixed(loss, 3));
    show("percent", fineIn === 0n ? "—" : `${fixed((loss * SCALE) / fineIn, 2)} %`);
    const created = preview.querySelector("[data-preview='created']");
    if (created) created.hidden = loss >= 0n;
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
});
