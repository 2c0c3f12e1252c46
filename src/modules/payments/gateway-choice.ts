import type { Config } from '../../config.js';
import type { PaymentGateway } from './gateway.js';
import { createLocalGateway } from './local-gateway.js';
import { createSslCommerzGateway } from './sslcommerz-gateway.js';

/** SSLCommerz when its credentials are configured, otherwise the built-in local gateway. */
export function createGateway(config: Config): PaymentGateway {
  return config.sslcommerz
    ? createSslCommerzGateway({
        ...config.sslcommerz,
        publicUrl: config.publicUrl,
        timeoutMs: config.gatewayTimeoutMs,
      })
    : createLocalGateway({ publicUrl: config.publicUrl, secret: config.jwt.accessSecret });
}
