-- 0002: authorization codes (RFC 6749 §4.1, PKCE) and remembered consent for third-party clients.

CREATE TABLE "AuthorizationCodes" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AuthorizationCodes" PRIMARY KEY,
    "CodeHash" TEXT NOT NULL,
    "ClientId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "RedirectUri" TEXT NOT NULL,
    "Scope" TEXT NOT NULL,
    "CodeChallenge" TEXT NOT NULL,
    "Nonce" TEXT NULL,
    "DeviceName" TEXT NULL,
    "AuthTime" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "RedeemedAt" INTEGER NULL,
    "LinkedDeviceId" TEXT NULL,
    CONSTRAINT "FK_AuthorizationCodes_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AuthorizationCodes_Clients_ClientId" FOREIGN KEY ("ClientId") REFERENCES "Clients" ("ClientId") ON DELETE CASCADE
);

CREATE TABLE "Consents" (
    "UserId" TEXT NOT NULL,
    "ClientId" TEXT NOT NULL,
    "Scope" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    CONSTRAINT "PK_Consents" PRIMARY KEY ("UserId", "ClientId"),
    CONSTRAINT "FK_Consents_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_Consents_Clients_ClientId" FOREIGN KEY ("ClientId") REFERENCES "Clients" ("ClientId") ON DELETE CASCADE
);

CREATE INDEX "IX_AuthorizationCodes_ClientId" ON "AuthorizationCodes" ("ClientId");

CREATE UNIQUE INDEX "IX_AuthorizationCodes_CodeHash" ON "AuthorizationCodes" ("CodeHash");

CREATE INDEX "IX_AuthorizationCodes_ExpiresAt" ON "AuthorizationCodes" ("ExpiresAt");

CREATE INDEX "IX_AuthorizationCodes_UserId" ON "AuthorizationCodes" ("UserId");

CREATE INDEX "IX_Consents_ClientId" ON "Consents" ("ClientId");
