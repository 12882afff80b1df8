import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { AnyRole, Public, RequireRole } from './principal.js';
import { rolesAdmitted, routeAccess } from './route-access.js';

@RequireRole('viewer')
class Reads {
  plain(): void {}
  @RequireRole('operator') acts(): void {}
  @AnyRole() anyone(): void {}
}

class Forgetful {
  forgot(): void {}
  @RequireRole('agent') reports(): void {}
}

@Public()
class Open {
  @RequireRole('admin') stillOpen(): void {}
}

describe('routeAccess (what AuthGuard enforces and the OpenAPI document states)', () => {
  const r = new Reflector();
  const access = (cls: { prototype: object }, name: string) => routeAccess(r, (cls.prototype as Record<string, () => void>)[name]!, cls as never);

  it('reads the handler over its controller, AnyRole, and Public before anything', () => {
    expect(access(Reads, 'plain')).toEqual({ kind: 'role', role: 'viewer', defaulted: false });
    expect(access(Reads, 'acts')).toEqual({ kind: 'role', role: 'operator', defaulted: false });
    expect(access(Reads, 'anyone')).toEqual({ kind: 'any' });
    expect(access(Open, 'stillOpen')).toEqual({ kind: 'public' });
  });

  it('makes a route that forgets its role admin-only', () => {
    expect(access(Forgetful, 'forgot')).toEqual({ kind: 'role', role: 'admin', defaulted: true });
    expect(rolesAdmitted(access(Forgetful, 'forgot'))).toEqual(['admin']);
  });

  it('admits the ladder upwards, and agent tokens only on agent routes', () => {
    expect(rolesAdmitted({ kind: 'role', role: 'viewer', defaulted: false })).toEqual(['viewer', 'operator', 'admin']);
    expect(rolesAdmitted({ kind: 'role', role: 'operator', defaulted: false })).toEqual(['operator', 'admin']);
    expect(rolesAdmitted(access(Forgetful, 'reports'))).toEqual(['agent']);
    expect(rolesAdmitted({ kind: 'any' })).toEqual(['viewer', 'operator', 'admin', 'agent']);
  });
});
