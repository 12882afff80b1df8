/** RESP2 reply encoders (RESP3 types arrive with the Sentinel endpoint). */

export const simple = (text: string): string => `+${text}\r\n`;
export const error = (text: string): string => `-${text}\r\n`;
export const integer = (n: number): string => `:${n}\r\n`;
export const bulk = (text: string | null): string => (text === null ? '$-1\r\n' : `$${Buffer.byteLength(text)}\r\n${text}\r\n`);
export const array = (items: string[] | null): string => (items === null ? '*-1\r\n' : `*${items.length}\r\n${items.join('')}`);
