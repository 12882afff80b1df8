import { Module } from '@nestjs/common';
import { TopologyModule } from '../topology/topology.module.js';
import { DiscoveryController } from './discovery.controller.js';
import { MasterDirectory } from './master-directory.service.js';
import { MasterLookup } from './master-lookup.service.js';

/** Where the master is: the in-memory directory every publisher reads, and the REST lookup and watch. */
@Module({
  imports: [TopologyModule],
  providers: [MasterDirectory, MasterLookup],
  controllers: [DiscoveryController],
  exports: [MasterDirectory, MasterLookup],
})
export class DiscoveryModule {}
