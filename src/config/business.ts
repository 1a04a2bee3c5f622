import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_AMOUNT } from '../core/money.js';
import { codePointName, findForbiddenText } from '../core/safe-text.js';

const Amount = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT });
const Channel = Type.Union(
  ['wechat', 'alipay', 'unionpay', 'cash', 'card', 'member'].map((c) => Type.Literal(c)),
);

/**
 * The business config the cloud pushes (`doc` of `P/down/config`). Every section is optional: an
 * absent section keeps the defaults below. Unknown keys are refused so a typo never passes silently.
 */
export const BusinessConfigSchema = Type.Object(
  {
    merchant: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          address: Type.Optional(Type.String({ maxLength: 200 })),
          phone: Type.Optional(Type.String({ maxLength: 40 })),
          receiptHeader: Type.Optional(Type.String({ maxLength: 400 })),
          receiptFooter: Type.Optional(Type.String({ maxLength: 400 })),
          logo: Type.Optional(Type.String({ maxLength: 200_000, description: 'base64 PNG' })),
        },
        { additionalProperties: false },
      ),
    ),
    catalog: Type.Optional(
      Type.Object(
        {
          items: Type.Array(
            Type.Object(
              {
                sku: Type.String({ minLength: 1, maxLength: 64 }),
                name: Type.String({ minLength: 1, maxLength: 120 }),
                price: Amount,
                barcode: Type.Optional(Type.String({ pattern: '^[0-9]{8,14}$' })),
                category: Type.Optional(Type.String({ maxLength: 40 })),
              },
              { additionalProperties: false },
            ),
            { maxItems: 20_000 },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tenders: Type.Optional(
      Type.Object(
        {
          enabled: Type.Array(Channel, { uniqueItems: true }),
          routing: Type.Optional(
            Type.Record(
              Type.String(),
              Type.Object(
                { acquirer: Type.String({ minLength: 1 }), merchantId: Type.String({ minLength: 1 }) },
                { additionalProperties: false },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    coupons: Type.Optional(
      Type.Object(
        {
          prefixes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 16 }))),
          offline: Type.Optional(
            Type.Union([Type.Literal('refuse'), Type.Literal('accept')], {
              description: 'while the cloud is unreachable: refuse coupons, or accept whitelisted ones',
            }),
          ),
          maxOfflineDiscountPerSale: Type.Optional(Amount),
          offlineWhitelist: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  code: Type.String({ minLength: 1, maxLength: 64 }),
                  couponId: Type.String({ minLength: 1 }),
                  kind: Type.Union([Type.Literal('amount'), Type.Literal('percent')]),
                  value: Type.Integer({ minimum: 0 }),
                  minSpend: Type.Optional(Amount),
                  validUntil: Type.Optional(Type.String()),
                },
                { additionalProperties: false },
              ),
            ),
          ),
          issueRules: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  ruleId: Type.String({ minLength: 1, maxLength: 64 }),
                  kind: Type.Union([Type.Literal('amount'), Type.Literal('percent')]),
                  value: Type.Integer({ minimum: 1 }),
                  minSpend: Type.Optional(Amount),
                  validDays: Type.Integer({ minimum: 1, maximum: 3650 }),
                  afterSpend: Type.Optional(Amount),
                },
                {
                  additionalProperties: false,
                  description: 'coupons the terminal issues: by hand, or after a sale of at least afterSpend',
                },
              ),
              { maxItems: 50 },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    membership: Type.Optional(
      Type.Object(
        {
          prefixes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 16 }))),
          pointsPerYuan: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
    offline: Type.Optional(
      Type.Object(
        {
          tenders: Type.Optional(Type.Array(Channel, { uniqueItems: true })),
          maxOfflineAmountPerSale: Type.Optional(Amount),
          maxOfflineTotal: Type.Optional(Amount),
          maxOfflineHours: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 30 })),
        },
        { additionalProperties: false },
      ),
    ),
    orders: Type.Optional(
      Type.Object(
        {
          autoAcceptSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
          printKitchenTicket: Type.Optional(Type.Boolean()),
          printCustomerTicket: Type.Optional(Type.Boolean()),
          atCounterExpiryMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080 })),
        },
        { additionalProperties: false },
      ),
    ),
    payments: Type.Optional(
      Type.Object(
        {
          queryDelayMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
          queryIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
          resolveWithinMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 600_000 })),
          requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
          qrExpirySeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 3_600 })),
        },
        { additionalProperties: false },
      ),
    ),
    receipt: Type.Optional(
      Type.Object(
        {
          qrUrlTemplate: Type.Optional(Type.String({ maxLength: 200 })),
          copies: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 })),
        },
        { additionalProperties: false },
      ),
    ),
    locale: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  },
  { additionalProperties: false },
);

export type BusinessDoc = Static<typeof BusinessConfigSchema>;

/** The doc with every default filled in: what the services read. */
export interface BusinessConfig {
  merchant: NonNullable<BusinessDoc['merchant']>;
  catalog: NonNullable<BusinessDoc['catalog']>;
  tenders: { enabled: string[]; routing: Record<string, { acquirer: string; merchantId: string }> };
  coupons: {
    prefixes: string[];
    /** Offline, a coupon cannot be reserved at the cloud: refuse it, or accept a whitelisted one. */
    offline: 'refuse' | 'accept';
    maxOfflineDiscountPerSale: number;
    offlineWhitelist: NonNullable<NonNullable<BusinessDoc['coupons']>['offlineWhitelist']>;
    issueRules: NonNullable<NonNullable<BusinessDoc['coupons']>['issueRules']>;
  };
  membership: { prefixes: string[]; pointsPerYuan: number };
  offline: {
    tenders: string[];
    maxOfflineAmountPerSale: number;
    maxOfflineTotal: number;
    maxOfflineHours: number;
  };
  orders: {
    autoAcceptSeconds: number;
    printKitchenTicket: boolean;
    printCustomerTicket: boolean;
    /** An at-counter order not paid within this many minutes is cancelled; 0: never. */
    atCounterExpiryMinutes: number;
  };
  payments: {
    queryDelayMs: number;
    queryIntervalMs: number;
    resolveWithinMs: number;
    requestTimeoutMs: number;
    qrExpirySeconds: number;
  };
  receipt: { qrUrlTemplate?: string; copies: number };
  locale: 'zh-CN' | 'en';
  currency: string;
}

export const DEFAULT_BUSINESS: BusinessConfig = {
  merchant: { name: '' },
  catalog: { items: [] },
  tenders: { enabled: ['cash', 'wechat', 'alipay', 'unionpay', 'card', 'member'], routing: {} },
  // Offline coupons are refused unless the merchant accepts the risk of a double use (20.00 at most).
  coupons: {
    prefixes: ['CP'],
    offline: 'refuse',
    maxOfflineDiscountPerSale: 2_000,
    offlineWhitelist: [],
    issueRules: [],
  },
  membership: { prefixes: ['MB'], pointsPerYuan: 1 },
  // Cash only offline; per-sale 500.00, total 5000.00, 24 h: conservative defaults a merchant widens.
  offline: {
    tenders: ['cash'],
    maxOfflineAmountPerSale: 50_000,
    maxOfflineTotal: 500_000,
    maxOfflineHours: 24,
  },
  orders: {
    autoAcceptSeconds: 0,
    printKitchenTicket: true,
    printCustomerTicket: true,
    atCounterExpiryMinutes: 0,
  },
  // WeChat/Alipay micropay practice: first query after 5 s, then every 5 s, 45 s in all.
  payments: {
    queryDelayMs: 5_000,
    queryIntervalMs: 5_000,
    resolveWithinMs: 45_000,
    requestTimeoutMs: 10_000,
    qrExpirySeconds: 120,
  },
  receipt: { copies: 1 },
  locale: 'zh-CN',
  currency: 'CNY',
};

/** Every problem of a pushed doc, as `path: message`; empty when it is valid. */
export function businessProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(BusinessConfigSchema, doc)) {
    const path = e.path.replace(/^\//, '').replaceAll('/', '.') || '(doc)';
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push(`${path}: ${e.message}`);
    if (problems.length >= 50) break;
  }
  // Every text of the doc may reach paper: a control character is refused (newlines only where
  // a receipt prints several lines: merchant address, header and footer).
  const bad = findForbiddenText(doc, '', (path) => MULTILINE_TEXT.has(path));
  if (bad) problems.push(`${bad.path}: control character ${codePointName(bad.char)} is not allowed`);
  return problems;
}

const MULTILINE_TEXT = new Set(['merchant.address', 'merchant.receiptHeader', 'merchant.receiptFooter']);

/** Defaults under the doc, section by section (an absent section keeps the defaults). */
export function resolveBusiness(doc: BusinessDoc): BusinessConfig {
  const d = DEFAULT_BUSINESS;
  return {
    merchant: { ...d.merchant, ...doc.merchant },
    catalog: doc.catalog ?? d.catalog,
    tenders: { enabled: doc.tenders?.enabled ?? d.tenders.enabled, routing: doc.tenders?.routing ?? {} },
    coupons: {
      prefixes: doc.coupons?.prefixes ?? d.coupons.prefixes,
      offline: doc.coupons?.offline ?? d.coupons.offline,
      maxOfflineDiscountPerSale:
        doc.coupons?.maxOfflineDiscountPerSale ?? d.coupons.maxOfflineDiscountPerSale,
      offlineWhitelist: doc.coupons?.offlineWhitelist ?? [],
      issueRules: doc.coupons?.issueRules ?? [],
    },
    membership: {
      prefixes: doc.membership?.prefixes ?? d.membership.prefixes,
      pointsPerYuan: doc.membership?.pointsPerYuan ?? d.membership.pointsPerYuan,
    },
    offline: { ...d.offline, ...doc.offline },
    orders: { ...d.orders, ...doc.orders },
    payments: { ...d.payments, ...doc.payments },
    receipt: { ...d.receipt, ...doc.receipt },
    locale: doc.locale ?? d.locale,
    currency: doc.currency ?? d.currency,
  };
}
