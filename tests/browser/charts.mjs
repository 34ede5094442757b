// Checks for charts and the tables under them, shared by the journeys that show them.

import { expect } from "./lib.mjs";

/**
 * At a 390 px phone, no chart text renders below 12 px. An SVG scaled down by its viewBox
 * shrinks its text, so the size is measured as rendered: the computed font size times the
 * scale the SVG's screen matrix applies. Only the charts shown at that width are measured.
 */
export async function chartTextReadableOnAPhone(page, name) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 900 });
  const sizes = await page.evaluate(() =>
    [...document.querySelectorAll("svg text")]
      .filter((text) => text.getClientRects().length > 0 && text.textContent.trim() !== "")
      .map((text) => {
        const matrix = text.getScreenCTM();
        const scale = Math.sqrt(matrix.a * matrix.a + matrix.b * matrix.b);
        return { text: text.textContent.trim(), px: parseFloat(getComputedStyle(text).fontSize) * scale };
      }),
  );
  await page.setViewportSize(before ?? { width: 1280, height: 900 });
  const small = sizes.filter((size) => size.px < 12);
  console.log(JSON.stringify({ page: name, chartTexts: sizes.length, smallest: Math.min(...sizes.map((s) => s.px)) }));
  expect(small.length === 0, `${name}: chart text below 12 px at 390 px: ${JSON.stringify(small.slice(0, 5))}`);
  return sizes.length;
}

/**
 * Every table under a chart (and the report's tables) sits in a focusable, labelled region
 * that scrolls sideways inside its own box, at phone and desktop widths: the page itself never
 * scrolls sideways because of it.
 */
export async function tablesScrollInTheirOwnBox(page, name) {
  const before = page.viewportSize();
  for (const width of [320, 390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    const boxes = await page.evaluate(() =>
      [...document.querySelectorAll(".table-scroll")].map((box) => ({
        role: box.getAttribute("role"),
        label: box.getAttribute("aria-label") || (box.getAttribute("aria-labelledby") && document.getElementById(box.getAttribute("aria-labelledby"))?.textContent),
        tabindex: box.getAttribute("tabindex"),
        overflow: getComputedStyle(box).overflowX,
        inside: box.getBoundingClientRect().right <= document.documentElement.clientWidth + 0.5,
        wider: box.scrollWidth > box.clientWidth,
      })),
    );
    expect(boxes.length > 0, `${name}: there are tables in scroll boxes`);
    for (const box of boxes) {
      expect(box.role === "region" && box.label && box.tabindex === "0", `${name}: each table box is a focusable, labelled region: ${JSON.stringify(box)}`);
      expect(box.overflow === "auto" || box.overflow === "scroll", `${name}: the box scrolls sideways itself: ${JSON.stringify(box)}`);
      expect(box.inside, `${name} at ${width} px: the box stays inside the page: ${JSON.stringify(box)}`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 0, `${name} at ${width} px: the page scrolls sideways by ${overflow} px`);
  }
  await page.setViewportSize(before ?? { width: 1280, height: 900 });
}
