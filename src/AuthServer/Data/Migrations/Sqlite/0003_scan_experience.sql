-- 0003: the scan experience: number matching per client, and on each login request the match number and the
-- phone's one-time confirm ticket (hash only).

ALTER TABLE "Clients" ADD COLUMN "NumberMatching" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "DeviceAuthorizations" ADD COLUMN "MatchNumber" INTEGER NULL;

ALTER TABLE "DeviceAuthorizations" ADD COLUMN "ConfirmTicketHash" TEXT NULL;

ALTER TABLE "DeviceAuthorizations" ADD COLUMN "ConfirmTicketExpiresAt" INTEGER NULL;

ALTER TABLE "DeviceAuthorizations" ADD COLUMN "ConfirmTicketDeviceId" TEXT NULL;
