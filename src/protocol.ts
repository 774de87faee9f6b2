/**
 * What the page (the `<vitrine-recs>` element) and the worker (the engine) share: types, and one
 * constant (the lifeline message's key, at the end).
 */

/** The rows the element can show, in their default order. */
export type RowKind = 'similar' | 'complementary' | 'next' | 'recent';

/** The TF.js backends Vitrine can run its models on, fastest-first on typical hardware. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** `auto` picks by measured speed (see `model/backend.ts`); a name forces that backend. */
export type BackendPreference = BackendName | 'auto';

/** The backend in use and why it was chosen, as readable on the element (`el.backend`). */
export interface BackendInfo {
  name: BackendName;
  reason: string;
}

/** One row's request: which bundle, which product, how many items. */
export interface RowQuery {
  /** Absolute URL of the bundle's manifest.json. */
  src: string;
  row: RowKind;
  /** The product the page shows. It need not be in the bundle when `image` is given. */
  product: string;
  limit: number;
  /** Absolute URL of the product's image, embedded in the worker when the product is not in the bundle. */
  image?: string;
  /** Title of a product that is not in the bundle (its words inform the goes-with row). */
  title?: string;
  /** The page's URL: relative product URLs in the bundle (`/products/x`) resolve against it. */
  page?: string;
  backend?: BackendPreference;
  /**
   * The manifest's text, when the page already received it in this page view (its prefetch): the
   * worker then does not ask the server again. Checked exactly like a fetched manifest.
   */
  manifest?: string;
  /** Bundle files the page has fetched in this page view: the worker reads them from the HTTP cache without revalidating. */
  cached?: string[];
  /** Product ids no row may show (the cart, what the shopper bought, a store's own exclusions). */
  exclude?: string[];
  /** A store's rule: only products that match it (every given field). */
  filter?: RowFilter;
  /** `false`: a row shorter than `limit` stays short (default: topped up from the bundle's popular products). */
  fill?: boolean;
  /** Re-ranking rules to apply (recommend/rerank.ts), in this order. */
  rerank?: RerankRule[];
}

/**
 * Which products a row may show: a category among `category`, a brand among `brand`, a price from
 * `minPrice` to `maxPrice` (inclusive). A product without the field does not match it.
 */
export interface RowFilter {
  category?: string[];
  brand?: string[];
  minPrice?: number;
  maxPrice?: number;
}

/**
 * `mmr`: diversity — a product much like one already in the row waits its turn (maximal marginal
 * relevance over the image embeddings); `impressions`: what this shopper was shown often and never
 * opened sinks.
 */
export type RerankRule = 'mmr' | 'impressions';

/** What a row's items were computed from, so the element can title the row honestly. */
export type RowBasis =
  /** Nearest neighbours of the product's bundled embedding. */
  | 'embedding'
  /** Nearest neighbours of the product's image, embedded in the browser. */
  | 'image'
  /** The bundle's complementary (goes-with) lists. */
  | 'complementary'
  /** The pair model, for a product outside the bundle (from its image and title). */
  | 'pair-model'
  /** The next-view scorer over this shopper's current session (two views or more). */
  | 'session'
  /** No session yet (this product's view only): what other shoppers viewed around it. */
  | 'often-next'
  /** This shopper's own recent views (the `recent` row). */
  | 'history';

/** A recommended product, with URLs already resolved and checked (http(s) only). */
export interface Recommendation {
  id: string;
  title: string;
  /** Absolute http(s) URL of the product page (items whose URL is not http(s) are dropped). */
  url: string;
  /** Absolute http(s) URL of the product image. */
  image?: string;
  price?: number;
  currency?: string;
  score: number;
  /** A fallback fill: not the row's own result, topped up from the popular products. */
  fill?: true;
}

export interface RowResult {
  row: RowKind;
  basis: RowBasis;
  items: Recommendation[];
  /** Set when a TF.js model ran for this row. */
  backend?: BackendInfo;
  /**
   * How the items were ranked, for analytics: the basis and the bundle's method for it, then each
   * re-ranking rule applied and `fill` when the row was topped up, joined by `+` (`complementary:conditional+mmr`).
   */
  method?: string;
  /** The bundle's build (a hash of its manifest): which version of the model answered. */
  bundle?: string;
}

/** One entry of the shopper's browse history. Never leaves the device. */
export interface HistoryEvent {
  productId: string;
  kind: 'view' | 'cart' | 'purchase';
  /** Unix milliseconds. */
  at: number;
}

/**
 * The key of the one message a worker posts by itself (see `worker.ts`): the name of a Web Lock it
 * holds until it is gone, or `null` where it has none.
 */
export const LIFELINE = 'vitrine-lifeline';

/** The worker's API, exposed with comlink. Plain data in, plain data out; failures are named Errors. */
export interface EngineApi {
  recommend(query: RowQuery): Promise<RowResult>;
  /** Appends an event to the history (bounded in count and age; oldest dropped first). */
  record(event: HistoryEvent): Promise<void>;
  /** The history, oldest first. */
  history(): Promise<HistoryEvent[]>;
  /** Removes every event of one product. */
  forget(productId: string): Promise<void>;
  /** Counts an impression of each product: a row that showed them came into view (for the `impressions` re-ranking). */
  impressed(productIds: string[]): Promise<void>;
  clearHistory(): Promise<void>;
  /** Where history is kept: `indexeddb`, or `memory` when IndexedDB could not be opened. */
  storage(): Promise<'indexeddb' | 'memory'>;
}
