/** The topic tree of mqtt-v1: `pos/v1/{tenant}/{device}/…`. */
export interface Topics {
  prefix: string;
  status: string;
  upLedger: string;
  upState: string;
  upReq: string;
  /** Answers to commands; the only place a command is answered (mqtt-v1 "Commands"). */
  upResp: string;
  downAck: string;
  downConfig: string;
  downOrder: string;
  downCmd: string;
  downResp: string;
  downNotify: string;
  down: string[];
}

export function topicsFor(tenant: string, device: string): Topics {
  const p = `pos/v1/${tenant}/${device}`;
  const down = {
    downAck: `${p}/down/ack`,
    downConfig: `${p}/down/config`,
    downOrder: `${p}/down/order`,
    downCmd: `${p}/down/cmd`,
    downResp: `${p}/down/resp`,
    downNotify: `${p}/down/notify`,
  };
  return {
    prefix: p,
    status: `${p}/status`,
    upLedger: `${p}/up/ledger`,
    upState: `${p}/up/state`,
    upReq: `${p}/up/req`,
    upResp: `${p}/up/resp`,
    ...down,
    down: Object.values(down),
  };
}

/** `pos/v1/{tenant}/{device}/up/ledger` → tenant and device (the cloud side). */
export function deviceOfTopic(topic: string): { tenant: string; device: string; rest: string } | undefined {
  const m = /^pos\/v1\/([^/]+)\/([^/]+)\/(.+)$/.exec(topic);
  return m ? { tenant: m[1]!, device: m[2]!, rest: m[3]! } : undefined;
}
