import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

/** A master change, emitted in-process the moment the promotion is verified and recorded. */
export interface MasterChanged {
  cluster: string;
  clusterId: string;
  /** The failover record the change belongs to (publishers write their status as its steps). */
  failoverId: string;
  epoch: number;
  from: { host: string; port: number } | null;
  to: { host: string; port: number };
  at: Date;
}

/**
 * The published view of master changes: the failover runner emits, publishers (external DNS) listen.
 * Publishers depend on this and never on the failover engine itself.
 */
@Injectable()
export class MasterChanges {
  private readonly emitter = new EventEmitter();

  emit(change: MasterChanged): void {
    this.emitter.emit('master', change);
  }

  on(fn: (change: MasterChanged) => void): void {
    this.emitter.on('master', fn);
  }
}
