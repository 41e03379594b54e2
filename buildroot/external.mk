include $(sort $(wildcard $(BR2_EXTERNAL_NLCHAN_PATH)/package/*/*.mk))
