// The tip widget in Chromium: connect the demo wallet (a Wallet Standard wallet with
// a real keypair), approve once, tip many times with no further approval, check the
// receipts, settle, and see the creator's on-chain balance.

import { expect, test } from '@playwright/test';

const TIPS = 20;

test('one approval, then every click is a receipted tip that settles on chain', async ({ page, request }) => {
  const demo = await (await request.get('/demo.json')).json();
  const tip = BigInt(demo.widget.amount);
  await page.goto('/');

  const widget = page.locator('micropay-tip');
  await widget.getByRole('button', { name: /Connect micropay demo wallet/ }).click();
  const tipButton = widget.getByRole('button', { name: demo.widget.label });
  await expect(tipButton).toBeEnabled();

  for (let i = 1; i <= TIPS; i++) {
    await tipButton.click();
    // The first click also waits for the approved transaction to confirm.
    await expect(widget.locator('[data-receipts] li')).toHaveCount(i, { timeout: i === 1 ? 90_000 : 30_000 });
    await expect(tipButton).toBeEnabled();
  }
  await expect(widget.locator('[role=alert]')).toHaveCount(0);
  // 20 tips of 1,000 base units at 6 decimals.
  await expect(widget.locator('[data-total]')).toHaveText('0.02');
  // The newest receipt is the stream's TIPS-th state.
  await expect(widget.locator('[data-receipts] li').first()).toContainText(`seq ${TIPS},`);

  const approvals = await page.evaluate(() => (window as unknown as { micropayDemoWallet: { approvals: number } }).micropayDemoWallet.approvals);
  expect(approvals).toBe(1);
  expect(await widget.evaluate((element) => (element as unknown as { approvals: number }).approvals)).toBe(1);
  await page.screenshot({ path: 'test-results/widget-tipped.png', fullPage: true });

  // The relayer's receipts for the creator name every tip.
  const relayer = demo.widget.relayer;
  const receipts = await (await request.get(`${relayer}/v1/payees/${demo.widget.payee}/receipts`)).json();
  const named = receipts.receipts.map((r: { receipt: { entries: { payee: string; amount: string }[] } }) =>
    r.receipt.entries.find((entry) => entry.payee === demo.widget.payee),
  );
  expect(named.reduce((sum: bigint, entry: { amount: string }) => sum + BigInt(entry.amount), 0n)).toBe(tip * BigInt(TIPS));

  // Settle, then the creator's token account holds the tips net of the 1% fee.
  await request.post('/demo/settle');
  const gross = tip * BigInt(TIPS);
  const net = gross - (gross * 100n) / 10_000n;
  await expect
    .poll(async () => (await (await request.get('/demo/creator')).json()).balance, { timeout: 60_000 })
    .toBe(net.toString());
  await expect(page.locator('#balance')).toHaveText('0.0198', { timeout: 10_000 });
  await page.screenshot({ path: 'test-results/widget-settled.png', fullPage: true });
});
