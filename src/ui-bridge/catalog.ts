import { Type } from '@sinclair/typebox';

export interface CatalogItem {
  sku: string;
  name: string;
  /** Names by language, when the cloud config has them. */
  names?: Record<string, string>;
  unitPrice: number;
  /** EAN/UPC codes that scan to this item. */
  barcodes?: string[];
  category?: string;
}

/** Where the item grid comes from; the lead feeds it from the cloud config later. */
export interface CatalogPort {
  items(): CatalogItem[];
}

export const CatalogItemSchema = Type.Object({
  sku: Type.String(),
  name: Type.String(),
  names: Type.Optional(Type.Record(Type.String(), Type.String())),
  unitPrice: Type.Integer({ minimum: 0, description: 'minor units (fen)' }),
  barcodes: Type.Optional(Type.Array(Type.String())),
  category: Type.Optional(Type.String()),
});

const item = (
  sku: string,
  zh: string,
  en: string,
  unitPrice: number,
  category: string,
  barcode?: string,
): CatalogItem => ({
  sku,
  name: zh,
  names: { 'zh-CN': zh, en },
  unitPrice,
  category,
  ...(barcode ? { barcodes: [barcode] } : {}),
});

/** A café's worth of items for the demo and tests. */
export const DEMO_CATALOG: CatalogPort = {
  items: () => [
    item('LATTE', '拿铁咖啡', 'Latte', 2800, 'drinks', '6901234567892'),
    item('AMERICANO', '美式咖啡', 'Americano', 2200, 'drinks'),
    item('CAPPUCCINO', '卡布奇诺', 'Cappuccino', 2600, 'drinks'),
    item('GREEN-TEA', '抹茶拿铁', 'Matcha latte', 3000, 'drinks'),
    item('WATER', '矿泉水', 'Water', 300, 'drinks', '6920000000012'),
    item('CROISSANT', '可颂', 'Croissant', 1200, 'bakery'),
    item('MUFFIN', '蓝莓松饼', 'Blueberry muffin', 1500, 'bakery'),
    item('SANDWICH', '火腿三明治', 'Ham sandwich', 2500, 'food'),
    item('CAKE', '芝士蛋糕', 'Cheesecake', 3200, 'food'),
  ],
};

/** The shape of the business config's catalog (`catalog.items`), pushed by the cloud. */
export interface BusinessCatalog {
  items: Array<{ sku: string; name: string; price: number; barcode?: string; category?: string }>;
}

/**
 * The cloud's catalog once one is pushed; until then the demo catalog, so a fresh terminal (and the
 * tests) can sell from the grid. Read at each request: a new config shows on the next load.
 */
export function businessCatalog(current: () => BusinessCatalog | undefined): CatalogPort {
  return {
    items: () => {
      const items = current()?.items ?? [];
      if (items.length === 0) return DEMO_CATALOG.items();
      return items.map((i) => ({
        sku: i.sku,
        name: i.name,
        unitPrice: i.price,
        ...(i.barcode ? { barcodes: [i.barcode] } : {}),
        ...(i.category ? { category: i.category } : {}),
      }));
    },
  };
}
