/**
 * The one authentication check for every gRPC call: `authorization: Bearer <cluster secret>`,
 * and `x-quotient-secondary` naming a registered secondary (Register itself only needs the
 * secret). Anything else answers UNAUTHENTICATED before a handler runs. Health checks are open.
 */
import * as grpc from '@grpc/grpc-js';
import { secretMatcher } from '../cluster/cluster-secret';
import { SECONDARY_HEADER } from './status';

const OPEN_PREFIX = '/grpc.health.v1.Health/';
const REGISTER = '/quotient.v1.Cluster/Register';

export function authInterceptor(secret: string, isRegistered: (name: string) => Promise<boolean>): grpc.ServerInterceptor {
  const matches = secretMatcher(secret);
  return (method, call) => {
    if (method.path.startsWith(OPEN_PREFIX)) return new grpc.ServerInterceptingCall(call);
    const deny = (details: string): void => call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details, metadata: new grpc.Metadata() });
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const auth = String(metadata.get('authorization')[0] ?? '');
        const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
        if (!given || !matches(given)) return deny('invalid cluster secret');
        const name = String(metadata.get(SECONDARY_HEADER)[0] ?? '');
        if (method.path === REGISTER) return next(metadata);
        if (!name) return deny(`missing ${SECONDARY_HEADER}`);
        isRegistered(name).then(
          (known) => (known ? next(metadata) : deny(`unknown secondary ${name}: register first`)),
          () => call.sendStatus({ code: grpc.status.UNAVAILABLE, details: 'cannot check the secondary', metadata: new grpc.Metadata() }),
        );
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
