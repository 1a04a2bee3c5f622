/** What the customer sees; amounts are integer fen. The pole display and the web second screen take the same shapes. */
export type DisplayScreen =
  | { screen: 'idle'; text?: string; subtext?: string }
  | { screen: 'item'; name: string; qty?: number; price: number; total?: number }
  | { screen: 'total'; total: number; items?: number }
  | { screen: 'paid'; total: number; paid: number }
  | { screen: 'change'; paid: number; change: number }
  | { screen: 'text'; lines: [string, string] };
