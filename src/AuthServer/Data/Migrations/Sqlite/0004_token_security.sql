-- 0004: token security. Clients: DPoP required, refresh token absolute and idle lifetimes. Login requests: the DPoP key
-- they are bound to. Refresh tokens: family end, successor (reuse leeway), DPoP binding; SQLite cannot add a NOT NULL
-- column without a default, so the table is rebuilt and existing tokens keep their expiry as the family end.
-- The audit log, and the access tokens revoked before their expiry (RFC 7009).

ALTER TABLE "Clients" ADD COLUMN "RequireDpop" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Clients" ADD COLUMN "RefreshTokenAbsoluteLifetimeSeconds" INTEGER NOT NULL DEFAULT 2592000;

ALTER TABLE "Clients" ADD COLUMN "RefreshTokenIdleLifetimeSeconds" INTEGER NOT NULL DEFAULT 1209600;

ALTER TABLE "DeviceAuthorizations" ADD COLUMN "DpopJkt" TEXT NULL;

CREATE TABLE "RefreshTokens_new" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_RefreshTokens" PRIMARY KEY,
    "TokenHash" TEXT NOT NULL,
    "FamilyId" TEXT NOT NULL,
    "ClientId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "LinkedDeviceId" TEXT NOT NULL,
    "Scope" TEXT NOT NULL,
    "AuthTime" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "ConsumedAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    "FamilyExpiresAt" INTEGER NOT NULL,
    "ReplacedById" TEXT NULL,
    "Jkt" TEXT NULL,
    CONSTRAINT "FK_RefreshTokens_LinkedDevices_LinkedDeviceId" FOREIGN KEY ("LinkedDeviceId") REFERENCES "LinkedDevices" ("Id") ON DELETE CASCADE
);

INSERT INTO "RefreshTokens_new" ("Id", "TokenHash", "FamilyId", "ClientId", "UserId", "LinkedDeviceId", "Scope", "AuthTime", "CreatedAt", "ExpiresAt", "ConsumedAt", "RevokedAt", "FamilyExpiresAt")
SELECT "Id", "TokenHash", "FamilyId", "ClientId", "UserId", "LinkedDeviceId", "Scope", "AuthTime", "CreatedAt", "ExpiresAt", "ConsumedAt", "RevokedAt", "ExpiresAt" FROM "RefreshTokens";

DROP TABLE "RefreshTokens";

ALTER TABLE "RefreshTokens_new" RENAME TO "RefreshTokens";

CREATE INDEX "IX_RefreshTokens_ExpiresAt" ON "RefreshTokens" ("ExpiresAt");

CREATE INDEX "IX_RefreshTokens_FamilyId" ON "RefreshTokens" ("FamilyId");

CREATE INDEX "IX_RefreshTokens_LinkedDeviceId" ON "RefreshTokens" ("LinkedDeviceId");

CREATE UNIQUE INDEX "IX_RefreshTokens_TokenHash" ON "RefreshTokens" ("TokenHash");

CREATE TABLE "AuditEvents" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AuditEvents" PRIMARY KEY AUTOINCREMENT,
    "At" INTEGER NOT NULL,
    "Type" TEXT NOT NULL,
    "UserId" TEXT NULL,
    "ClientId" TEXT NULL,
    "Detail" TEXT NULL
);

CREATE INDEX "IX_AuditEvents_At" ON "AuditEvents" ("At");

CREATE TABLE "RevokedAccessTokens" (
    "Jti" TEXT NOT NULL CONSTRAINT "PK_RevokedAccessTokens" PRIMARY KEY,
    "ExpiresAt" INTEGER NOT NULL
);

CREATE INDEX "IX_RevokedAccessTokens_ExpiresAt" ON "RevokedAccessTokens" ("ExpiresAt");
