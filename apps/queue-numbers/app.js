// 排队取号: the next number, printed on a ticket and shown on the customer display.
import { connect } from '/sdk/posd-app.js';

const $ = (id) => document.getElementById(id);
const today = () => new Date().toISOString().slice(0, 10);

let memory = null;

/** The counter in this app's own storage; in memory where the browser gives the frame none. */
function load() {
  try {
    return JSON.parse(localStorage.getItem('queue') ?? 'null');
  } catch {
    return memory;
  }
}

function save(value) {
  memory = value;
  try {
    localStorage.setItem('queue', JSON.stringify(value));
  } catch {
    // storage blocked for framed pages: the count lives as long as the page
  }
}

/** Numbers start again every day. */
function nextNumber() {
  const saved = load();
  const n = saved && saved.day === today() ? saved.n + 1 : 1;
  save({ day: today(), n });
  return `A${String(n).padStart(3, '0')}`;
}

function setState(state, text) {
  document.body.dataset.state = state;
  $('status').textContent = text;
}

try {
  const app = await connect();
  app.onEnded = () => {
    $('take').disabled = true;
    setState('ended', '应用已被移除或会话已过期');
  };
  $('take').disabled = false;
  setState('ready', '');
  $('take').addEventListener('click', async () => {
    $('take').disabled = true;
    const number = nextNumber();
    $('number').textContent = number;
    const time = new Date().toLocaleString('zh-CN', { hour12: false });
    try {
      await app.print({
        lines: [
          { text: '排队取号', align: 'center', bold: true, size: 'double' },
          { text: number, align: 'center', bold: true, size: 'double' },
          { text: time, align: 'center' },
          { text: '请留意叫号 Please wait for your number', align: 'center' },
        ],
      });
      await app.display(`No. ${number}`, 'Please wait');
      setState('printed', `${number} 已打印`);
    } catch (err) {
      if (err.status !== 401) setState('error', `打印失败：${err.code ?? err.message}`);
    } finally {
      $('take').disabled = false;
    }
  });
} catch (err) {
  setState('error', err.message);
}
