-- 0001: the initial schema: ASP.NET Core Identity, clients, login requests, linked devices, refresh tokens,
-- signing keys and the Data Protection key ring. Must equal what the EF model creates (SchemaTests).
CREATE TABLE "AspNetRoles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetRoles" PRIMARY KEY,
    "Name" TEXT NULL,
    "NormalizedName" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL
);


CREATE TABLE "AspNetUsers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetUsers" PRIMARY KEY,
    "DisplayName" TEXT NULL,
    "UserName" TEXT NULL,
    "NormalizedUserName" TEXT NULL,
    "Email" TEXT NULL,
    "NormalizedEmail" TEXT NULL,
    "EmailConfirmed" INTEGER NOT NULL,
    "PasswordHash" TEXT NULL,
    "SecurityStamp" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL,
    "PhoneNumber" TEXT NULL,
    "PhoneNumberConfirmed" INTEGER NOT NULL,
    "TwoFactorEnabled" INTEGER NOT NULL,
    "LockoutEnd" INTEGER NULL,
    "LockoutEnabled" INTEGER NOT NULL,
    "AccessFailedCount" INTEGER NOT NULL
);


CREATE TABLE "Clients" (
    "ClientId" TEXT NOT NULL CONSTRAINT "PK_Clients" PRIMARY KEY,
    "DisplayName" TEXT NOT NULL,
    "Type" TEXT NOT NULL,
    "SecretHashes" TEXT NOT NULL,
    "GrantTypes" TEXT NOT NULL,
    "Scopes" TEXT NOT NULL,
    "RedirectUris" TEXT NOT NULL,
    "PostLogoutRedirectUris" TEXT NOT NULL,
    "AllowedCorsOrigins" TEXT NOT NULL,
    "DeviceCodeLifetimeSeconds" INTEGER NOT NULL,
    "PollIntervalSeconds" INTEGER NOT NULL,
    "FirstParty" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL
);


CREATE TABLE "DataProtectionKeys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_DataProtectionKeys" PRIMARY KEY AUTOINCREMENT,
    "FriendlyName" TEXT NULL,
    "Xml" TEXT NOT NULL
);


CREATE TABLE "SigningKeys" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_SigningKeys" PRIMARY KEY,
    "Algorithm" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "PublicJwk" TEXT NOT NULL,
    "ProtectedPrivateKey" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ActivatedAt" INTEGER NULL,
    "RetiredAt" INTEGER NULL
);


CREATE TABLE "AspNetRoleClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetRoleClaims" PRIMARY KEY AUTOINCREMENT,
    "RoleId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetRoleClaims_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetUserClaims" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetUserClaims_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserLogins" (
    "LoginProvider" TEXT NOT NULL,
    "ProviderKey" TEXT NOT NULL,
    "ProviderDisplayName" TEXT NULL,
    "UserId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserLogins" PRIMARY KEY ("LoginProvider", "ProviderKey"),
    CONSTRAINT "FK_AspNetUserLogins_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserRoles" (
    "UserId" TEXT NOT NULL,
    "RoleId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserRoles" PRIMARY KEY ("UserId", "RoleId"),
    CONSTRAINT "FK_AspNetUserRoles_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AspNetUserRoles_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AspNetUserTokens" (
    "UserId" TEXT NOT NULL,
    "LoginProvider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Value" TEXT NULL,
    CONSTRAINT "PK_AspNetUserTokens" PRIMARY KEY ("UserId", "LoginProvider", "Name"),
    CONSTRAINT "FK_AspNetUserTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);


CREATE TABLE "DeviceAuthorizations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_DeviceAuthorizations" PRIMARY KEY,
    "DeviceCodeHash" TEXT NOT NULL,
    "UserCode" TEXT NOT NULL,
    "ClientId" TEXT NOT NULL,
    "Scope" TEXT NOT NULL,
    "DeviceName" TEXT NULL,
    "RequesterIp" TEXT NULL,
    "RequesterUserAgent" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "IntervalSeconds" INTEGER NOT NULL,
    "Status" TEXT NOT NULL,
    "Version" INTEGER NOT NULL,
    "SubjectId" TEXT NULL,
    "ScannedAt" INTEGER NULL,
    "DecidedAt" INTEGER NULL,
    "RedeemedAt" INTEGER NULL,
    "LinkedDeviceId" TEXT NULL,
    CONSTRAINT "FK_DeviceAuthorizations_Clients_ClientId" FOREIGN KEY ("ClientId") REFERENCES "Clients" ("ClientId") ON DELETE CASCADE
);


CREATE TABLE "LinkedDevices" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_LinkedDevices" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "ClientId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "LastUsedAt" INTEGER NOT NULL,
    "LastIp" TEXT NULL,
    "UserAgent" TEXT NULL,
    "RevokedAt" INTEGER NULL,
    CONSTRAINT "FK_LinkedDevices_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_LinkedDevices_Clients_ClientId" FOREIGN KEY ("ClientId") REFERENCES "Clients" ("ClientId") ON DELETE CASCADE
);


CREATE TABLE "RefreshTokens" (
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
    CONSTRAINT "FK_RefreshTokens_LinkedDevices_LinkedDeviceId" FOREIGN KEY ("LinkedDeviceId") REFERENCES "LinkedDevices" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_AspNetRoleClaims_RoleId" ON "AspNetRoleClaims" ("RoleId");


CREATE UNIQUE INDEX "RoleNameIndex" ON "AspNetRoles" ("NormalizedName");


CREATE INDEX "IX_AspNetUserClaims_UserId" ON "AspNetUserClaims" ("UserId");


CREATE INDEX "IX_AspNetUserLogins_UserId" ON "AspNetUserLogins" ("UserId");


CREATE INDEX "IX_AspNetUserRoles_RoleId" ON "AspNetUserRoles" ("RoleId");


CREATE INDEX "EmailIndex" ON "AspNetUsers" ("NormalizedEmail");


CREATE UNIQUE INDEX "UserNameIndex" ON "AspNetUsers" ("NormalizedUserName");


CREATE INDEX "IX_DeviceAuthorizations_ClientId" ON "DeviceAuthorizations" ("ClientId");


CREATE UNIQUE INDEX "IX_DeviceAuthorizations_DeviceCodeHash" ON "DeviceAuthorizations" ("DeviceCodeHash");


CREATE INDEX "IX_DeviceAuthorizations_ExpiresAt" ON "DeviceAuthorizations" ("ExpiresAt");


CREATE UNIQUE INDEX "IX_DeviceAuthorizations_UserCode" ON "DeviceAuthorizations" ("UserCode");


CREATE INDEX "IX_LinkedDevices_ClientId" ON "LinkedDevices" ("ClientId");


CREATE INDEX "IX_LinkedDevices_UserId" ON "LinkedDevices" ("UserId");


CREATE INDEX "IX_RefreshTokens_ExpiresAt" ON "RefreshTokens" ("ExpiresAt");


CREATE INDEX "IX_RefreshTokens_FamilyId" ON "RefreshTokens" ("FamilyId");


CREATE INDEX "IX_RefreshTokens_LinkedDeviceId" ON "RefreshTokens" ("LinkedDeviceId");


CREATE UNIQUE INDEX "IX_RefreshTokens_TokenHash" ON "RefreshTokens" ("TokenHash");


