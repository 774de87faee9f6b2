import { css } from 'lit';

/**
 * The element's own look: neutral, inherits the page's font and colours; themed through parts and
 * custom properties. Written minified, one rule a line, with no comment inside the template: the
 * build does not minify CSS in a template literal, and every byte here is in the script each product
 * page loads.
 * - A row is a grid: its heading, then the scroll buttons at the heading's end, then the list across
 *   the whole width. Grid and flex order and no physical side anywhere: a right-to-left page mirrors
 *   it, and the buttons' ‹ and › are Unicode's mirrored characters, drawn the other way round there.
 * - The list keeps 4px of padding (and of scroll padding) so the focus ring of a card at its edge is
 *   not clipped by the scroll box. It does not snap: with `scroll-snap-type`, Chromium snaps a card
 *   the keyboard focused back out of view.
 * - Motion only for a shopper who has not asked for less: smooth scrolling, the placeholder's pulse.
 */
export const styles = css`
:host{display:block;contain:content}
:host([hidden]){display:none}
section{display:grid;grid-template-columns:1fr auto auto;align-items:center;gap:.25rem;margin:0 0 1.5rem}
h2{font-size:1.1em;margin:0}
[part~=row-note]{font-weight:400;opacity:.7}
[part~=scroll]{width:2rem;height:2rem;border:1px solid;border-radius:50%;background:none;color:inherit;font-size:1.25em}
[aria-disabled=true]{opacity:.35}
ul,[part~=loading]{display:flex;gap:var(--vitrine-gap,.75rem);grid-column:1/-1;list-style:none;margin:0;padding:4px 4px .5rem;scroll-padding-inline:4px;overflow-x:auto;overscroll-behavior-x:contain}
li,.skeleton{flex:0 0 var(--vitrine-card-width,10rem);min-width:0}
a{display:flex;flex-flow:column;gap:.25rem;color:inherit;text-decoration:none}
:focus-visible{outline:2px solid var(--vitrine-accent,currentColor);outline-offset:2px}
[part~=image],.skeleton{display:block;width:100%;aspect-ratio:1;object-fit:contain;border-radius:var(--vitrine-radius,.5rem);background:var(--vitrine-image-bg,#f3f3f3)}
[part~=title]{overflow:hidden;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow-wrap:anywhere;unicode-bidi:isolate}
[part~=price]{font-weight:600;color:var(--vitrine-accent,inherit)}
@media (prefers-reduced-motion:no-preference){ul{scroll-behavior:smooth}.skeleton{animation:pulse 1.2s ease-in-out infinite alternate}}
@keyframes pulse{to{opacity:.5}}
`;
