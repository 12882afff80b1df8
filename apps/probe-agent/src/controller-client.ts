import {
  AGENT_API_PREFIX,
  type AgentAssignment,
  type AgentHeartbeat,
  type AgentHeartbeatAccepted,
  type AgentRegistration,
  type AgentRegistrationAccepted,
  type AgentReportAccepted,
} from '../../../libs/contracts/src/index.js';

/** An answer from a controller that was not 2xx. `status` 0 = the controller could not be reached. */
export class ControllerCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerCallError';
  }

  /** 401/403/409: a wrong or weak token, or a name bound to another token; an operator must act. */
  get isConfigFault(): boolean {
    return this.status === 401 || this.status === 403 || this.status === 409;
  }
}

/** Speaks the agent API to one controller. */
export class ControllerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  register(body: AgentRegistration): Promise<AgentRegistrationAccepted> {
    return this.post('/register', body);
  }

  heartbeat(name: string, body: AgentHeartbeat): Promise<AgentHeartbeatAccepted> {
    return this.post(`/${encodeURIComponent(name)}/heartbeat`, body);
  }

  /**
   * Sends a report serialized once for every controller (`JSON.stringify` of an `AgentReport`), giving up
   * after `timeoutMs` (default: the client's): a report older than that is superseded by the next one.
   */
  async report(name: string, json: string, timeoutMs = this.timeoutMs): Promise<AgentReportAccepted> {
    const { text } = await this.call('POST', `/${encodeURIComponent(name)}/reports`, json, { 'content-type': 'application/json' }, timeoutMs);
    return JSON.parse(text) as AgentReportAccepted;
  }

  /** The assignment, or `undefined` when it is still `knownVersion` (304). */
  async assignment(name: string, knownVersion?: string): Promise<AgentAssignment | undefined> {
    const headers: Record<string, string> = knownVersion ? { 'if-none-match': `"${knownVersion}"` } : {};
    const { status, text } = await this.call('GET', `/${encodeURIComponent(name)}/assignment`, undefined, headers);
    return status === 304 ? undefined : (JSON.parse(text) as AgentAssignment);
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    return JSON.parse((await this.call('POST', path, JSON.stringify(body), { 'content-type': 'application/json' })).text) as T;
  }

  private async call(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs = this.timeoutMs,
  ): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${AGENT_API_PREFIX}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...headers },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ControllerCallError(0, `${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok && res.status !== 304) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the raw text
      }
      throw new ControllerCallError(res.status, `${this.baseUrl} answered ${res.status}: ${message}`);
    }
    return { status: res.status, text };
  }
}
