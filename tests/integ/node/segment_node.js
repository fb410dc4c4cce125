// Sends track, identify and page with messageIds through Segment's own
// @segment/analytics-node (installed by tests/integ/test_segment_node.py)
// to a pixeld, waits until the library has flushed, and prints what the
// library reported as JSON on the last line.
'use strict';

const { Analytics } = require('@segment/analytics-node');

async function main() {
	const [host, writeKey, prefix, count] = process.argv.slice(2);
	const errors = [];
	const analytics = new Analytics({
		writeKey,
		host,
		path: '/v1/batch',
		flushAt: 5,
		flushInterval: 200,
		maxRetries: 20,
		httpRequestTimeout: 5000,
	});
	analytics.on('error', (err) => errors.push(String(err && (err.code || err.message || err))));
	const n = Number(count);
	for (let i = 0; i < n; i++) {
		analytics.track({
			messageId: `${prefix}-track-${i}`,
			userId: 'node-user',
			event: 'Order Completed',
			properties: { order_id: `ord-${i}`, revenue: 10 + i, currency: 'EUR' },
			context: { ip: '198.51.100.77', traits: { email: 'Node.User@Example.com' } },
		});
	}
	analytics.identify({
		messageId: `${prefix}-identify`,
		userId: 'node-user',
		traits: { email: 'node.user@example.com', plan: 'team' },
	});
	analytics.page({
		messageId: `${prefix}-page`,
		anonymousId: 'node-anon',
		name: 'Pricing',
		properties: { url: 'https://shop.example/pricing', referrer: 'https://news.example/' },
	});
	await analytics.closeAndFlush({ timeout: 60000 });
	console.log(JSON.stringify({ errors }));
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
