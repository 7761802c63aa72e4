// Template definitions for sip/message.h. Include sip/message.h, not this file.
#pragma once
