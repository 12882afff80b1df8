import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { TokensController } from './tokens.controller.js';
import { WhoamiController } from './whoami.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiTokenEntity]), AuditModule],
  providers: [AuthService, { provide: APP_GUARD, useClass: AuthGuard }],
  controllers: [TokensController, WhoamiController],
  exports: [AuthService],
})
export class AuthModule {}
