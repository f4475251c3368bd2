using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AuthServer.Data.Configurations;

internal sealed class RateLimitCounterConfiguration : IEntityTypeConfiguration<RateLimitCounter>
{
    public void Configure(EntityTypeBuilder<RateLimitCounter> counter)
    {
        counter.ToTable("RateLimitCounters");
        // One row per partition, holding its current window: the upsert's conflict target.
        counter.HasKey(c => c.Key);
        counter.Property(c => c.Key).HasMaxLength(256);
        counter.HasIndex(c => c.ExpiresAt);
    }
}

internal sealed class DpopProofUseConfiguration : IEntityTypeConfiguration<DpopProofUse>
{
    public void Configure(EntityTypeBuilder<DpopProofUse> proof)
    {
        proof.ToTable("DpopProofs");
        // RFC 9449 §11.1: a jti is unique per key; the key is what makes a replay a conflict.
        proof.HasKey(p => new { p.Jkt, p.Jti });
        proof.Property(p => p.Jkt).HasMaxLength(64);
        proof.Property(p => p.Jti).HasMaxLength(256);
        proof.HasIndex(p => p.ExpiresAt);
    }
}
