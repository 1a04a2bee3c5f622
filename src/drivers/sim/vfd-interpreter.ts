import { DISPLAY_COLUMNS } from '../display/display-text.js';

const ROWS = 2;
const ESC = 0x1b;
const US = 0x1f;

type Step = { need: number } | { used: number };

/**
 * A 2x20 VFD as the simulator and tests see it: interprets the Epson DM-D and CD5220 commands
 * we emit (and their common neighbours) into the text on the glass. Bytes it does not know are
 * counted in `junkBytes`, never dropped silently.
 */
export class VfdInterpreter {
  private grid: string[][] = blank();
  private row = 0;
  private col = 0;
  private pending: number[] = [];
  junkBytes = 0;

  lines(): [string, string] {
    return [this.grid[0]!.join(''), this.grid[1]!.join('')];
  }

  feed(bytes: Uint8Array): void {
    // Byte by byte: only the command in progress is held (at most a CD5220 line), so a large
    // write takes linear time and the outcome does not depend on how the bytes were split.
    for (const b of bytes) {
      this.pending.push(b);
      while (this.pending.length > 0) {
        const step = this.step(this.pending);
        if ('need' in step) break; // a command split across writes: wait for the rest
        this.pending.splice(0, step.used);
      }
    }
  }

  private step(p: number[]): Step {
    const b = p[0]!;
    if (b >= 0x20 && b < 0x7f) {
      this.put(String.fromCharCode(b));
      return { used: 1 };
    }
    switch (b) {
      case 0x0c: // CLR
        this.clear();
        return { used: 1 };
      case 0x0b: // HOM
        this.row = 0;
        this.col = 0;
        return { used: 1 };
      case 0x0d:
        this.col = 0;
        return { used: 1 };
      case 0x0a:
        this.row = Math.min(ROWS - 1, this.row + 1);
        return { used: 1 };
      case 0x08:
        this.col = Math.max(0, this.col - 1);
        return { used: 1 };
      case 0x09:
        this.advance();
        return { used: 1 };
      case ESC:
        return this.escape(p);
      case US:
        return this.unitSeparator(p);
      default:
        this.junkBytes++;
        return { used: 1 };
    }
  }

  private escape(p: number[]): Step {
    if (p.length < 2) return { need: 2 };
    const c = p[1]!;
    switch (c) {
      case 0x40: // ESC @
        this.clear();
        return { used: 2 };
      case 0x11: // DC1 overwrite, DC2 vertical scroll, DC3 horizontal scroll (CD5220)
      case 0x12:
      case 0x13:
        return { used: 2 };
      case 0x5f: // ESC _ n cursor on/off
      case 0x74: // ESC t n code table
      case 0x52: // ESC R n character set
        return p.length < 3 ? { need: 3 } : { used: 3 };
      case 0x6c: // ESC l x y cursor (CD5220)
        if (p.length < 4) return { need: 4 };
        return this.moveTo(p[2]!, p[3]!, 4);
      case 0x51: // ESC Q A/B/D text CR (CD5220 upper/lower/scrolling line)
        return this.lineCommand(p);
      default:
        this.junkBytes += 2;
        return { used: 2 };
    }
  }

  private lineCommand(p: number[]): Step {
    if (p.length < 3) return { need: 3 };
    const which = p[2]!;
    const end = p.indexOf(0x0d, 3);
    if (end < 0) return p.length > 3 + 80 ? this.junk(3) : { need: p.length + 1 };
    const row = which === 0x42 ? 1 : which === 0x41 || which === 0x44 ? 0 : -1;
    if (row < 0) return this.junk(end + 1);
    const text = p.slice(3, end);
    this.grid[row] = Array.from({ length: DISPLAY_COLUMNS }, (_, i) => {
      const ch = text[i];
      return ch !== undefined && ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : ' ';
    });
    this.junkBytes += Math.max(0, text.length - DISPLAY_COLUMNS);
    return { used: end + 1 };
  }

  private unitSeparator(p: number[]): Step {
    if (p.length < 2) return { need: 2 };
    const c = p[1]!;
    switch (c) {
      case 0x01: // US MD1 overwrite, MD2 vertical scroll, MD3 horizontal scroll
      case 0x02:
      case 0x03:
        return { used: 2 };
      case 0x43: // US C n cursor on/off
      case 0x58: // US X n brightness
        return p.length < 3 ? { need: 3 } : { used: 3 };
      case 0x24: // US $ x y cursor, 1-based
        if (p.length < 4) return { need: 4 };
        return this.moveTo(p[2]!, p[3]!, 4);
      default:
        this.junkBytes += 2;
        return { used: 2 };
    }
  }

  private moveTo(x: number, y: number, used: number): Step {
    if (x < 1 || x > DISPLAY_COLUMNS || y < 1 || y > ROWS) return this.junk(used);
    this.col = x - 1;
    this.row = y - 1;
    return { used };
  }

  private junk(used: number): Step {
    this.junkBytes += used;
    return { used };
  }

  private put(ch: string): void {
    this.grid[this.row]![this.col] = ch;
    this.advance();
  }

  private advance(): void {
    this.col++;
    if (this.col >= DISPLAY_COLUMNS) {
      this.col = 0;
      this.row = (this.row + 1) % ROWS;
    }
  }

  private clear(): void {
    this.grid = blank();
    this.row = 0;
    this.col = 0;
  }
}

function blank(): string[][] {
  return Array.from({ length: ROWS }, () => Array.from({ length: DISPLAY_COLUMNS }, () => ' '));
}
