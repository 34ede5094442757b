// The report's Print button: shown only when JavaScript runs.
for (const button of document.querySelectorAll("button.print-report")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
