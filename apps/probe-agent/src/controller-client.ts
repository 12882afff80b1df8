import {
  AGENT_API_PREFIX,
  type AgentHeartbeat,
  type AgentHeartbeatAccepted,
  type AgentRegistration,
  type AgentRegistrationAccepted,
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

  private async post<T>(path: string, body: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${AGENT_API_PREFIX}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ControllerCallError(0, `${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the raw text
      }
      throw new ControllerCallError(res.status, `${this.baseUrl} answered ${res.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }
}
