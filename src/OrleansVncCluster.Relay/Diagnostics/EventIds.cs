namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>
/// Every log event id in one place, grouped by capability, so operators can alert on an id and ids never collide.
/// 1xxx sessions, 2xxx tokens, 3xxx sync and Abiquo, 4xxx cluster and hosting, 5xxx admin, 6xxx security, 7xxx session history.
/// </summary>
internal static class EventIds
{
    public const int SessionStarted = 1000;
    public const int SessionEnded = 1001;
    public const int SessionRefused = 1002;
    public const int NotWebSocket = 1003;
    public const int TargetUnreachable = 1004;
    public const int SessionsClosed = 1006;
    public const int OriginRefused = 1007;
    public const int VncLoginFailed = 1008;
    public const int VncLoggedIn = 1009;
    public const int BrowserHandshakeFailed = 1010;

    public const int TokenRetargeted = 2000;
    public const int TokenFileLoaded = 2001;
    public const int TokenFileLineSkipped = 2002;
    public const int TokenFileFailed = 2003;
    public const int TokenRevoked = 2004;
    public const int TokenFileUnstable = 2005;
    public const int TokenFileMassRemovalHeld = 2006;

    public const int SyncCompleted = 3000;
    public const int SyncFailed = 3001;
    public const int SyncMassRemovalHeld = 3002;
    public const int SyncKeeperFailed = 3003;
    public const int SyncMassRemovalConfirmed = 3004;
    public const int SyncReminderUnavailable = 3005;
    public const int SyncSourceFailed = 3006;
    public const int SyncStarted = 3007;
    public const int SyncStartupFailed = 3008;
    public const int SyncOldKey = 3009;
    public const int AbiquoInventoryLoaded = 3010;
    public const int AbiquoEnterpriseVanished = 3011;
    public const int AbiquoEnterpriseWithoutVmLink = 3012;
    public const int AbiquoTlsVerificationDisabled = 3013;
    public const int AbiquoTokensWritten = 3014;
    public const int AbiquoAddressContested = 3015;
    public const int AbiquoAddressesContested = 3016;

    public const int RedisConnected = 4000;
    public const int WaitingForRedis = 4001;
    public const int NodeRegistrationFailed = 4002;
    public const int Draining = 4003;
    public const int ListenerStarted = 4004;
    public const int AgentCannotListen = 4006;
    public const int RevocationUndelivered = 4007;
    public const int EmbeddedClustering = 4008;
    public const int RedisClustering = 4009;
    public const int LoopbackAdvertised = 4010;
    public const int SessionTokenInvalid = 4011;
    public const int RevalidationFailed = 4012;
    public const int RevocationDroppedForTesting = 4013;
    public const int RevocationRetrying = 4020;
    public const int RevocationDeliveredAfterRetry = 4021;
    public const int RevocationReplayed = 4022;
    public const int RevocationFailedForTesting = 4023;
    public const int NodeListed = 4024;

    public const int Undrained = 4014;

    public const int SyncApplyPaced = 4100;
    public const int SyncApplyBehind = 4101;
    public const int SyncTimings = 4102;


    public const int ClipboardRefused = 5200;
    public const int ClipboardRefusalsQuiet = 5201;
    public const int ClipboardPolicy = 5202;

    public const int ScreenshotTaken = 5100;
    public const int ScreenshotFailed = 5101;

    public const int RecordingStarted = 5300;
    public const int RecordingFailed = 5301;
    public const int RecordingKeyValues = 5302;
    public const int RecordingRefused = 5303;
    public const int RecordingStopped = 5304;
    public const int RecordingDeleted = 5305;
    public const int RecordingIndexFailed = 5306;
    public const int RecordingFetchFailed = 5307;
    public const int RecordingQueryFailed = 5308;

    public const int TokenReadFromStorage = 5410;

    public const int SessionResumed = 5220;
    public const int PresenceUnavailable = 5221;
    public const int ResumeOfClosedSession = 5222;
    public const int ResumeCheckUnavailable = 5223;
    public const int ResumeForbidFailed = 5224;
    public const int ResumeCheckedInStorage = 5225;

    // The console page's share button (ConsolePage/ShareLinks): 5400-5409.
    public const int ConsoleShared = 5400;
    public const int ShareRefused = 5401;

    public const int TokenRevokedByOperator = 5010;
    public const int TokenRevokeUnknown = 5011;
    public const int TokenRevokeIndexFailed = 5012;

    public const int TicketKeysLoaded = 6000;
    public const int TicketKeysFailed = 6001;
    public const int TicketIssued = 6002;
    public const int TicketReplayed = 6003;
    public const int TicketRedeemFailed = 6004;
    public const int TicketVmMismatch = 6005;
    public const int TicketGivenBack = 6006;
    public const int TicketGiveBackFailed = 6007;
    public const int FailedTokenLimitReached = 6100;
    public const int TargetNotAllowed = 6101;
    public const int LeaseUnavailable = 6102;
    public const int LeaseReleaseFailed = 6103;
    public const int TargetAllowListEmpty = 6104;
    public const int TlsCertificateLoaded = 6200;
    public const int TlsCertificateReloaded = 6201;
    public const int TlsCertificateRefused = 6202;
    public const int TlsCertificateWatchUnavailable = 6203;
    public const int ConnectionCaps = 6210;
    public const int UpgradeCapReached = 6211;
    public const int DefaultMaxSessions = 6212;
    public const int OpenFileLimitTooLow = 6213;
    public const int ConnectionCapsOverLimit = 6214;
    public const int InlineIo = 6215;
    public const int StartupHeapSettled = 6216;
    public const int StartupRehearsed = 6217;
    public const int StartupRehearsalFailed = 6218;
    public const int SiloTlsOn = 6220;
    public const int SiloPeerRefused = 6221;
    public const int TrustedProxyHostsResolved = 6222;
    public const int TrustedProxyHostsUnresolved = 6223;
    public const int SocketAffinity = 6224;
    public const int GrainCallPoolsBounded = 6225;
    public const int GrainCallPoolsUnbounded = 6226;

    public const int PlaybackStarted = 5350;
    public const int PlaybackEnded = 5351;
    public const int PlaybackRefused = 5352;
    public const int PlaybackTicketIssued = 5353;
    public const int PlaybackPixelFormatRefused = 5354;
    public const int PlaybackIndexed = 5355;

    public const int AuditWritesDropped = 7000;
    public const int AuditLostNodeClosed = 7001;
    public const int AuditSweepFailed = 7002;
    public const int AuditQueryFailed = 7003;
    public const int AuditInMemory = 7004;
}
