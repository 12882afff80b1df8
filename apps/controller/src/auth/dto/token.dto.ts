import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TOKEN_ROLES, type TokenRole } from '../../../../../libs/contracts/src/index.js';
import type { ApiTokenEntity } from '../api-token.entity.js';

export class CreateTokenDto {
  @ApiProperty({ example: 'deploy-bot', description: '1-100 characters: letters, digits, . _ - and :' })
  @IsString()
  @MaxLength(100)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'must contain only letters, digits, dots, underscores, colons and dashes' })
  name: string;

  @ApiProperty({ enum: TOKEN_ROLES, example: 'operator' })
  @IsIn(TOKEN_ROLES as unknown as string[], { message: `must be one of ${TOKEN_ROLES.join(', ')}` })
  role: TokenRole;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Refused after this instant (absent: never expires); must be in the future' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'must be an ISO 8601 date-time' })
  expiresAt?: Date;
}

export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: TOKEN_ROLES }) role: TokenRole;
  @ApiProperty() createdBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String, description: 'Refused after this instant (null: never)' }) expiresAt: string | null;

  static from(row: ApiTokenEntity): TokenDto {
    return Object.assign(new TokenDto(), {
      id: row.id,
      name: row.name,
      role: row.role,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
      revokedAt: row.revokedAt?.toISOString() ?? null,
      expiresAt: row.expiresAt?.toISOString() ?? null,
    });
  }
}

export class CreatedTokenDto extends TokenDto {
  @ApiProperty({ description: 'The bearer token. Shown once: only a hash is stored.', example: 'vgl_AbCdEfGhIjKl_…' })
  token: string;
}

export class TokenListDto {
  @ApiProperty({ type: [TokenDto] }) items: TokenDto[];
}
