import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from './agents/agents.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import { DiscoveryModule } from './discovery/discovery.module.js';
import { DnsModule } from './dns/dns.module.js';
import { DetectionModule } from './detection/detection.module.js';
import { EventsOutModule } from './events-out/events-out.module.js';
import { FailoverModule } from './failover/failover.module.js';
import { LeadershipModule } from './leadership/leadership.module.js';
import type { ControllerConfig } from './config/config.js';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database/data-source.js';
import { runMigrationsLocked } from './database/migrations-lock.js';
import { JobsModule } from './jobs/jobs.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { OverviewModule } from './overview/overview.module.js';
import { PublicationModule } from './publication/publication.module.js';
import { SentinelModule } from './sentinel/sentinel.module.js';
import { TopologyModule } from './topology/topology.module.js';

/** The controller: one module per domain concept, wired from a validated config. */
@Module({})
export class AppModule {
  static forRoot(config: ControllerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config.databaseUrl),
          // Migrate before anything else touches the database, under a lock shared by all controllers.
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options!).initialize();
            if (config.migrationsRun) await runMigrationsLocked(ds);
            return ds;
          },
        }),
        JobsModule.forRoot(config),
        AuditModule,
        AuthModule,
        TopologyModule,
        LeadershipModule,
        DetectionModule,
        FailoverModule,
        AgentsModule,
        DiscoveryModule,
        SentinelModule,
        DnsModule,
        EventsOutModule,
        ObservabilityModule,
        OverviewModule,
        PublicationModule,
      ],
    };
  }
}
