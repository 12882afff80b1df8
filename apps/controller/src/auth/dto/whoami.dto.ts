import { ApiProperty } from '@nestjs/swagger';
import { TOKEN_ROLES, type TokenRole } from '../../../../../libs/contracts/src/index.js';
import type { Principal } from '../principal.js';

export class WhoamiDto {
  @ApiProperty({ format: 'uuid', description: "The token's id (as `GET /tokens` lists it)" }) tokenId: string;
  @ApiProperty({ description: "The token's name (`bootstrap-admin` for VIGIL_ADMIN_TOKEN)", example: 'deploy-bot' }) name: string;
  @ApiProperty({ enum: TOKEN_ROLES, description: 'viewer < operator < admin; agent apart' }) role: TokenRole;

  static from(p: Principal): WhoamiDto {
    return Object.assign(new WhoamiDto(), { tokenId: p.tokenId, name: p.tokenName, role: p.role });
  }
}
