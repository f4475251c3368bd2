-- 0005: a client may have its ID tokens signed with another algorithm than the server's default.

ALTER TABLE "Clients" ADD COLUMN "IdTokenSignedResponseAlg" TEXT NULL;
