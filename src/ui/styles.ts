import { css } from 'lit';

/** The element's own look: neutral, inherits the page's font and colours; themed through parts and custom properties. */
export const styles = css`
  :host {
    display: block;
    contain: content;
    --_card: var(--vitrine-card-width, 10rem);
    --_gap: var(--vitrine-gap, 0.75rem);
    --_radius: var(--vitrine-radius, 0.5rem);
  }
  :host([hidden]) {
    display: none;
  }
  section {
    margin-block: 0 1.5rem;
  }
  h2 {
    font-size: 1.1em;
    margin: 0 0 0.5rem;
  }
  [part~='row-note'] {
    font-weight: normal;
    opacity: 0.7;
  }
  ul,
  [part~='loading'] {
    display: flex;
    gap: var(--_gap);
    list-style: none;
    margin: 0;
    padding: 0 0 0.5rem;
    overflow-x: auto;
    overscroll-behavior-x: contain;
    scroll-snap-type: x proximity;
  }
  li {
    flex: 0 0 var(--_card);
    min-width: 0;
    scroll-snap-align: start;
  }
  a {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
    color: inherit;
    text-decoration: none;
  }
  a:focus-visible {
    outline: 2px solid var(--vitrine-accent, currentColor);
    outline-offset: 2px;
  }
  [part~='image'],
  .skeleton {
    display: block;
    width: 100%;
    aspect-ratio: 1;
    object-fit: contain;
    border-radius: var(--_radius);
    background: var(--vitrine-image-bg, #f3f3f3);
  }
  .skeleton {
    flex: 0 0 var(--_card);
  }
  [part~='title'] {
    overflow: hidden;
    display: -webkit-box;
    -webkit-line-clamp: 2;
    -webkit-box-orient: vertical;
    overflow-wrap: anywhere;
    unicode-bidi: isolate;
  }
  [part~='price'] {
    font-weight: 600;
    color: var(--vitrine-accent, inherit);
  }
  @media (prefers-reduced-motion: no-preference) {
    .skeleton {
      animation: pulse 1.2s ease-in-out infinite alternate;
    }
  }
  @keyframes pulse {
    to {
      opacity: 0.5;
    }
  }
`;
